//! The ready endpoints of each AIService's Service, from its EndpointSlices, and waiting for
//! the first one. A request for a service at zero waits here (bounded: [`Backends::wait`]),
//! and is released the moment an EndpointSlice says a pod is ready, not when a replica count
//! changes: a pod that exists but does not listen yet is never sent a request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use k8s_openapi::api::discovery::v1::EndpointSlice;
use tokio::sync::watch;

/// An AIService (and its Service, which has the same name), as `namespace/name`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceKey {
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Why a request gets no backend.
#[derive(Debug, PartialEq, Eq)]
pub enum NoBackend {
    /// The cluster has no Service of that name with an EndpointSlice: nothing to wait for.
    Unknown,
    /// As many requests as the queue holds are already waiting.
    QueueFull,
    /// No endpoint became ready within the queue timeout.
    Timeout,
}

#[derive(Default)]
struct Service {
    /// Ready endpoints per EndpointSlice (a Service may have several).
    slices: HashMap<String, Vec<SocketAddr>>,
    ready: Option<watch::Sender<Vec<SocketAddr>>>,
    waiting: usize,
}

impl Service {
    fn sender(&mut self) -> &watch::Sender<Vec<SocketAddr>> {
        self.ready
            .get_or_insert_with(|| watch::channel(Vec::new()).0)
    }

    fn publish(&mut self) {
        let mut all: Vec<SocketAddr> = self.slices.values().flatten().copied().collect();
        all.sort();
        self.sender().send_replace(all);
    }
}

/// Every service's ready endpoints.
#[derive(Default)]
pub struct Backends {
    services: Mutex<HashMap<ServiceKey, Service>>,
    /// Whether the watch has listed the EndpointSlices once: before that, every service may
    /// exist, after it only those with a slice do (so a request for a misspelled host is
    /// answered at once, and hosts nobody serves never take memory).
    listed: std::sync::atomic::AtomicBool,
    /// Spreads requests over a service's endpoints in turn.
    next: AtomicUsize,
}

impl Backends {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ServiceKey, Service>> {
        self.services.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records an EndpointSlice as the watch reports it; one of no service is ignored.
    pub fn apply(&self, slice: &EndpointSlice) {
        let Some((key, slice_name)) = identity(slice) else {
            return;
        };
        let mut services = self.lock();
        let service = services.entry(key).or_default();
        service.slices.insert(slice_name, ready_endpoints(slice));
        service.publish();
    }

    /// Forgets a deleted EndpointSlice, and the service with its last one unless requests
    /// wait for it.
    pub fn delete(&self, slice: &EndpointSlice) {
        let Some((key, slice_name)) = identity(slice) else {
            return;
        };
        let mut services = self.lock();
        if let Some(service) = services.get_mut(&key) {
            service.slices.remove(&slice_name);
            service.publish();
            if service.slices.is_empty() && service.waiting == 0 {
                services.remove(&key);
            }
        }
    }

    /// Replaces everything with `slices` (the watch restarted and listed them all).
    pub fn reset(&self, slices: &[EndpointSlice]) {
        let mut services = self.lock();
        for service in services.values_mut() {
            service.slices.clear();
        }
        for slice in slices {
            if let Some((key, slice_name)) = identity(slice) {
                let service = services.entry(key).or_default();
                service.slices.insert(slice_name, ready_endpoints(slice));
            }
        }
        for service in services.values_mut() {
            service.publish();
        }
        services.retain(|_, service| !service.slices.is_empty() || service.waiting > 0);
        self.listed.store(true, Ordering::Relaxed);
    }

    /// Whether requests for `key` may wait: it has an EndpointSlice (one with no ready
    /// endpoint, at zero), or the EndpointSlices are not listed yet.
    pub fn serves(&self, key: &ServiceKey) -> bool {
        !self.listed.load(Ordering::Relaxed)
            || self
                .lock()
                .get(key)
                .is_some_and(|service| !service.slices.is_empty())
    }

    /// A ready endpoint of `key`: at once if it has one, else after waiting up to `timeout`
    /// for one, as one of at most `queue` waiting requests.
    pub async fn wait(
        &self,
        key: &ServiceKey,
        queue: usize,
        timeout: Duration,
    ) -> Result<SocketAddr, NoBackend> {
        if !self.serves(key) {
            return Err(NoBackend::Unknown);
        }
        let mut ready = {
            let mut services = self.lock();
            let service = services.entry(key.clone()).or_default();
            let ready = service.sender().subscribe();
            if let Some(endpoint) = self.pick(&ready.borrow()) {
                return Ok(endpoint);
            }
            if service.waiting >= queue {
                return Err(NoBackend::QueueFull);
            }
            service.waiting += 1;
            ready
        };
        let found = tokio::time::timeout(timeout, ready.wait_for(|e| !e.is_empty())).await;
        let endpoint = match found {
            Ok(Ok(endpoints)) => self.pick(&endpoints),
            _ => None,
        };
        if let Some(service) = self.lock().get_mut(key) {
            service.waiting -= 1;
        }
        endpoint.ok_or(NoBackend::Timeout)
    }

    /// How many requests wait for `key` now.
    pub fn waiting(&self, key: &ServiceKey) -> usize {
        self.lock().get(key).map_or(0, |s| s.waiting)
    }

    fn pick(&self, endpoints: &[SocketAddr]) -> Option<SocketAddr> {
        if endpoints.is_empty() {
            return None;
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        Some(endpoints[turn % endpoints.len()])
    }
}

/// The service a slice belongs to (its `kubernetes.io/service-name` label) and the slice's
/// name.
fn identity(slice: &EndpointSlice) -> Option<(ServiceKey, String)> {
    let meta = &slice.metadata;
    let service = meta.labels.as_ref()?.get("kubernetes.io/service-name")?;
    Some((
        ServiceKey {
            namespace: meta.namespace.clone()?,
            name: service.clone(),
        },
        meta.name.clone()?,
    ))
}

/// The addresses of a slice's ready endpoints, on its first port (the AIService's Service has
/// one: the serving port).
fn ready_endpoints(slice: &EndpointSlice) -> Vec<SocketAddr> {
    let Some(port) = slice
        .ports
        .as_ref()
        .and_then(|ports| ports.first())
        .and_then(|p| p.port)
        .and_then(|p| u16::try_from(p).ok())
    else {
        return Vec::new();
    };
    slice
        .endpoints
        .iter()
        .flatten()
        // Unset means ready, as for every consumer of EndpointSlices.
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) != Some(false))
        .flat_map(|e| e.addresses.iter())
        .filter_map(|address| address.parse().ok())
        .map(|ip| SocketAddr::new(ip, port))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn slice(name: &str, ready: bool) -> EndpointSlice {
        serde_json::from_value(json!({
            "metadata": {
                "name": name,
                "namespace": "team-a",
                "labels": {"kubernetes.io/service-name": "llama"},
            },
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080}],
            "endpoints": [
                {"addresses": ["10.0.0.1"], "conditions": {"ready": ready}},
                {"addresses": ["10.0.0.2"], "conditions": {"ready": false}},
            ],
        }))
        .unwrap()
    }

    fn llama() -> ServiceKey {
        ServiceKey {
            namespace: "team-a".into(),
            name: "llama".into(),
        }
    }

    #[tokio::test]
    async fn a_held_request_gets_the_first_ready_endpoint() {
        let backends = std::sync::Arc::new(Backends::default());
        backends.apply(&slice("llama-1", false));
        let waiting = {
            let backends = backends.clone();
            tokio::spawn(async move { backends.wait(&llama(), 10, Duration::from_secs(5)).await })
        };
        while backends.waiting(&llama()) == 0 {
            tokio::task::yield_now().await;
        }
        backends.apply(&slice("llama-1", true));
        assert_eq!(waiting.await.unwrap(), Ok("10.0.0.1:8080".parse().unwrap()));
        assert_eq!(backends.waiting(&llama()), 0);
    }

    #[tokio::test]
    async fn the_queue_is_bounded_in_size_and_time() {
        let backends = std::sync::Arc::new(Backends::default());
        let held = {
            let backends = backends.clone();
            tokio::spawn(
                async move { backends.wait(&llama(), 1, Duration::from_millis(200)).await },
            )
        };
        while backends.waiting(&llama()) == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            backends.wait(&llama(), 1, Duration::from_secs(5)).await,
            Err(NoBackend::QueueFull)
        );
        assert_eq!(held.await.unwrap(), Err(NoBackend::Timeout));
        backends.apply(&slice("llama-1", true));
        backends.delete(&slice("llama-1", true));
        assert_eq!(
            backends.wait(&llama(), 1, Duration::from_millis(10)).await,
            Err(NoBackend::Timeout),
            "a deleted slice's endpoints are gone"
        );
    }

    #[tokio::test]
    async fn once_listed_only_services_with_a_slice_are_waited_for() {
        let backends = Backends::default();
        backends.reset(&[slice("llama-1", false)]);
        let other = ServiceKey {
            namespace: "team-a".into(),
            name: "mistral".into(),
        };
        assert_eq!(
            backends.wait(&other, 10, Duration::from_secs(5)).await,
            Err(NoBackend::Unknown)
        );
        assert!(
            backends.serves(&llama()),
            "at zero, its slice has no ready endpoint"
        );
        backends.delete(&slice("llama-1", false));
        assert!(!backends.serves(&llama()));
        assert!(
            backends.lock().is_empty(),
            "nothing kept of a service that is gone"
        );
    }
}
