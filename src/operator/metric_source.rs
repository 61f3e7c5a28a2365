//! Where requests per second come from: a Prometheus server's HTTP API, or a counter scraped
//! from every ready pod. A source that fails or times out yields an error the controller turns
//! into `MetricsAvailable=False`; it never stops the loop.
//!
//! HTTP is plain `http://` (ureq without TLS), the in-cluster norm for Prometheus and pods.
//! The calls block, so the controller runs them on tokio's blocking pool.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::Value;

/// How long one HTTP call may take before the sample counts as unavailable.
const TIMEOUT: Duration = Duration::from_secs(3);

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(true)
        .build()
        .into()
}

/// `query` with `$NAME` and `$NAMESPACE` replaced by the object's.
pub fn expand_query(query: &str, name: &str, namespace: &str) -> String {
    query
        .replace("$NAMESPACE", namespace)
        .replace("$NAME", name)
}

/// The value of a PromQL instant query that returns one sample (or none: no traffic yet).
pub fn prometheus(address: &str, query: &str) -> Result<f64, String> {
    let url = format!("{}/api/v1/query", address.trim_end_matches('/'));
    let body = agent()
        .get(&url)
        .query("query", query)
        .call()
        .and_then(|mut response| response.body_mut().read_to_string())
        .map_err(|e| format!("asking Prometheus at {address}: {e}"))?;
    prometheus_value(&body).map_err(|why| format!("Prometheus at {address}: {why}"))
}

/// The single sample of an instant-query answer. An empty vector is 0: a rate over a counter
/// that does not exist yet (the service never got a request).
fn prometheus_value(body: &str) -> Result<f64, String> {
    let answer: Value =
        serde_json::from_str(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    if answer["status"] != "success" {
        return Err(format!(
            "the query failed: {}",
            answer["error"].as_str().unwrap_or("no error given")
        ));
    }
    let data = &answer["data"];
    let sample = match data["resultType"].as_str() {
        Some("scalar") => &data["result"],
        Some("vector") => match data["result"].as_array().map(Vec::as_slice) {
            Some([]) => return Ok(0.0),
            Some([one]) => &one["value"],
            Some(many) => {
                return Err(format!(
                    "the query returned {} series; it must return one (wrap it in sum(...))",
                    many.len()
                ));
            }
            None => return Err("the answer has no result".into()),
        },
        other => return Err(format!("expected a vector or scalar, got {other:?}")),
    };
    let value = sample[1]
        .as_str()
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| format!("the sample {sample} has no numeric value"))?;
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!("the value {value} is not a rate"))
    }
}

/// One pod's counter at one time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CounterSample {
    pub value: f64,
    pub at: SystemTime,
}

/// The counter `name` summed over its series, read from a pod's metrics endpoint.
pub fn scrape_counter(url: &str, name: &str) -> Result<f64, String> {
    let body = agent()
        .get(url)
        .call()
        .and_then(|mut response| response.body_mut().read_to_string())
        .map_err(|e| format!("scraping {url}: {e}"))?;
    counter_in(&body, name).ok_or_else(|| format!("{url} exposes no counter {name}"))
}

/// The sum of every series of counter `name` in the Prometheus text format (`name` or, as
/// OpenMetrics writes counters, `name_total`).
fn counter_in(text: &str, name: &str) -> Option<f64> {
    let total = format!("{name}_total");
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, rest) = match line.find(['{', ' ']) {
            Some(i) => line.split_at(i),
            None => continue,
        };
        if series != name && series != total {
            continue;
        }
        // Skip the labels, then the value is the first field after them.
        let after_labels = match rest.strip_prefix('{') {
            Some(labelled) => labelled.split_once('}').map(|(_, v)| v)?,
            None => rest,
        };
        let value: f64 = after_labels.split_whitespace().next()?.parse().ok()?;
        *found.get_or_insert(0.0) += value;
    }
    found
}

/// One service's figures as one interceptor replica reports them (`/v1/counts`).
#[derive(Debug, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InterceptorCounts {
    pub requests: u64,
    pub queued: usize,
}

/// What the interceptor at `admin` (`http://host:port`) counted for `namespace/name`; a
/// service it has not seen a request for has all zeros.
pub fn interceptor_counts(
    admin: &str,
    namespace: &str,
    name: &str,
) -> Result<InterceptorCounts, String> {
    let url = format!("{}/v1/counts", admin.trim_end_matches('/'));
    let body = agent()
        .get(&url)
        .call()
        .and_then(|mut response| response.body_mut().read_to_string())
        .map_err(|e| format!("asking the interceptor at {admin}: {e}"))?;
    counts_of(&body, namespace, name).map_err(|why| format!("the interceptor at {admin}: {why}"))
}

fn counts_of(body: &str, namespace: &str, name: &str) -> Result<InterceptorCounts, String> {
    let all: Vec<Value> =
        serde_json::from_str(body).map_err(|e| format!("the counts are not a JSON list: {e}"))?;
    let Some(found) = all
        .into_iter()
        .find(|c| c["namespace"] == namespace && c["name"] == name)
    else {
        return Ok(InterceptorCounts::default());
    };
    serde_json::from_value(found).map_err(|e| format!("unusable counts: {e}"))
}

/// Requests per second from two rounds of per-pod counter samples: each pod's increase over
/// its own interval, summed. A pod seen once has no rate yet; a counter that went down (the
/// pod restarted) counts from zero.
pub fn rate(
    previous: &BTreeMap<String, CounterSample>,
    current: &BTreeMap<String, CounterSample>,
) -> Result<f64, String> {
    let mut total = 0.0;
    let mut pods_with_rate = 0;
    for (pod, now) in current {
        let Some(before) = previous.get(pod) else {
            continue;
        };
        let Ok(elapsed) = now.at.duration_since(before.at) else {
            continue;
        };
        if elapsed.is_zero() {
            continue;
        }
        let increase = if now.value >= before.value {
            now.value - before.value
        } else {
            now.value
        };
        total += increase / elapsed.as_secs_f64();
        pods_with_rate += 1;
    }
    if pods_with_rate == 0 && !current.is_empty() {
        return Err("first samples of the pods' counters; the rate follows the next poll".into());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interceptor_counts_are_the_services_or_zero() {
        let body =
            r#"[{"namespace":"team-a","name":"llama","requests":42,"inFlight":3,"queued":2}]"#;
        assert_eq!(
            counts_of(body, "team-a", "llama"),
            Ok(InterceptorCounts {
                requests: 42,
                queued: 2
            })
        );
        assert_eq!(
            counts_of(body, "team-b", "llama"),
            Ok(InterceptorCounts::default())
        );
        assert!(
            counts_of("<html>", "a", "b")
                .unwrap_err()
                .contains("not a JSON list")
        );
    }

    #[test]
    fn queries_name_the_object() {
        assert_eq!(
            expand_query(
                r#"sum(rate(http_requests_total{service="$NAME",namespace="$NAMESPACE"}[1m]))"#,
                "llama",
                "models"
            ),
            r#"sum(rate(http_requests_total{service="llama",namespace="models"}[1m]))"#
        );
    }

    #[test]
    fn one_sample_is_the_rate_and_none_is_zero() {
        let one = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.1,"38.5"]}]}}"#;
        assert_eq!(prometheus_value(one), Ok(38.5));
        let none = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(prometheus_value(none), Ok(0.0));
        let scalar =
            r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000.1,"2"]}}"#;
        assert_eq!(prometheus_value(scalar), Ok(2.0));
    }

    #[test]
    fn unusable_answers_say_why() {
        let two = r#"{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]},{"value":[1,"2"]}]}}"#;
        assert!(
            prometheus_value(two)
                .unwrap_err()
                .contains("wrap it in sum")
        );
        let failed = r#"{"status":"error","error":"parse error at char 5"}"#;
        assert!(
            prometheus_value(failed)
                .unwrap_err()
                .contains("parse error at char 5")
        );
        assert!(prometheus_value("<html>").unwrap_err().contains("not JSON"));
        let nan =
            r#"{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"NaN"]}]}}"#;
        assert!(prometheus_value(nan).unwrap_err().contains("not a rate"));
    }

    #[test]
    fn an_unreachable_prometheus_is_an_error_not_a_hang() {
        let why = prometheus("http://127.0.0.1:9", "up").unwrap_err();
        assert!(why.contains("127.0.0.1:9"), "{why}");
    }

    #[test]
    fn counters_are_summed_over_their_series() {
        let text = "# HELP http_requests_total Requests.\n\
                    # TYPE http_requests_total counter\n\
                    http_requests_total{code=\"200\"} 120\n\
                    http_requests_total{code=\"500\",path=\"/a b\"} 3 1700000000\n\
                    http_requests_created 1.7e9\n\
                    other_total 9\n";
        assert_eq!(counter_in(text, "http_requests_total"), Some(123.0));
        assert_eq!(counter_in(text, "http_requests"), Some(123.0));
        assert_eq!(counter_in("requests 7\n", "requests"), Some(7.0));
        assert_eq!(counter_in(text, "missing"), None);
    }

    #[test]
    fn the_rate_is_the_pods_increase_over_time() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let t1 = t0 + Duration::from_secs(10);
        let sample = |value, at| CounterSample { value, at };
        let before = BTreeMap::from([
            ("a".to_string(), sample(100.0, t0)),
            ("b".to_string(), sample(50.0, t0)),
        ]);
        let now = BTreeMap::from([
            ("a".to_string(), sample(200.0, t1)),
            // b restarted: its counter starts again from zero.
            ("b".to_string(), sample(30.0, t1)),
            // c is new: no rate until its second sample.
            ("c".to_string(), sample(5.0, t1)),
        ]);
        assert_eq!(rate(&before, &now), Ok(13.0));
        assert!(rate(&BTreeMap::new(), &now).is_err());
        assert_eq!(rate(&before, &BTreeMap::new()), Ok(0.0));
    }
}
