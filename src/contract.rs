//! The protocol-neutral resource contract. Protocol adapters (Pulumi and Terraform) translate their wire messages into these types and call a [`Resource`]; resources never
//! know which adapter called them.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::cluster::KubeLayer;
use crate::description::Description;
use crate::provider_config::ProviderConfig;
use crate::value::{Object, PropertyPath};

/// One problem with a resource's inputs, found before anything is sent to the cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckFailure {
    pub path: PropertyPath,
    pub reason: String,
    /// For a failure of the CRD's schema: what an update must leave unchanged for Kubernetes'
    /// validation ratcheting to let the object keep the failure. `None`: reported on every
    /// update, as the apiserver reports it.
    pub ratchet: Option<Anchor>,
}

impl CheckFailure {
    pub fn new(path: PropertyPath, reason: impl Into<String>) -> Self {
        Self {
            path,
            reason: reason.into(),
            ratchet: None,
        }
    }
}

/// The value Kubernetes' validation ratcheting (KEP-4008, GA in 1.33) compares between an
/// update's old and new object to decide whether a schema failure is kept (unchanged) or
/// reported (changed): the value the failing schema node validated, or the nearest enclosing
/// value the apiserver can correlate with the old object. Steps lead from the inputs' root.
#[derive(Clone, Debug, PartialEq)]
pub struct Anchor(pub Vec<Correlation>);

/// How one step of an [`Anchor`] finds the old value that corresponds to the new one.
#[derive(Clone, Debug, PartialEq)]
pub enum Correlation {
    /// A property, by its name.
    Key(String),
    /// An item of an `x-kubernetes-list-type: map` list: the old item with the same values of
    /// the list's map keys, wherever it was in the old list.
    MapItem { index: usize, keys: Vec<String> },
    /// An item of any other list, which Kubernetes does not correlate item by item: the whole
    /// list is compared.
    Item(usize),
}

/// How every adapter words a failure: `spec.replicas: expected integer, got string "three"`,
/// or the reason alone for the whole object (a CEL rule on the root).
impl std::fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.0.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

/// What `check` receives.
pub struct CheckRequest<'a> {
    /// The resource's logical name in the program, the base of an auto-generated name.
    pub name: &'a str,
    /// The previous inputs; empty on create.
    pub olds: &'a Object,
    pub news: Object,
    /// Stable across preview and update of the same resource, so auto-names agree.
    pub random_seed: &'a [u8],
    /// A name the engine proposes (its autonaming configuration), used instead of ours.
    pub proposed_name: Option<&'a str>,
}

/// The validated inputs, with defaults (such as a generated name) filled in.
pub struct Checked {
    pub inputs: Object,
    pub failures: Vec<CheckFailure>,
}

/// How one property changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Add,
    Delete,
    Update,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub path: PropertyPath,
    pub kind: ChangeKind,
    /// Kubernetes cannot change this field in place.
    pub replace: bool,
}

#[derive(Debug, Default, PartialEq)]
pub struct Diff {
    pub changes: Vec<Change>,
    /// The replacement has the same identity as the old object, so it must go first.
    pub delete_before_replace: bool,
}

impl Diff {
    pub fn replaces(&self) -> bool {
        self.changes.iter().any(|c| c.replace)
    }
}

/// A resource as the engine records it.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub id: String,
    pub outputs: Object,
}

/// What `read` found in the cluster.
pub struct ReadResult {
    pub state: State,
    /// The inputs that would produce the live object: the user's fields with live values.
    pub inputs: Object,
}

/// Everything a resource operation may use besides its inputs.
#[derive(Clone)]
pub struct Context {
    pub kube: Arc<KubeLayer>,
    /// Cancelled when the engine asks the provider to stop; awaits return promptly.
    pub cancel: CancellationToken,
    /// Where user-relevant progress goes (the engine's log for this resource).
    pub progress: Arc<dyn Progress>,
    /// The engine's custom timeout for this operation, if the program set one.
    pub timeout: Option<Duration>,
    /// A stable identity of the resource this operation is for (Pulumi: its URN), recorded on
    /// the objects it creates so that a rerun after an interrupted create recognises them
    /// (Terraform: one the adapter minted at create and keeps in the private state). `None`
    /// for an imported Terraform resource: then no existing object is its own.
    pub owner: Option<String>,
}

impl Context {
    /// Where namespaced objects that name no namespace go.
    pub fn default_namespace(&self) -> &str {
        &self.kube.default_namespace
    }
}

/// What configuring the provider gives an adapter: the cluster connection each operation's
/// [`Context`] is made from. Adapters hold a session, never the Kubernetes layer itself.
#[derive(Clone)]
pub struct Session(Arc<KubeLayer>);

impl Session {
    /// Connects as the configuration says; nothing is sent to the cluster yet.
    pub async fn open(config: &ProviderConfig) -> Result<Session, ResourceError> {
        Ok(Session(Arc::new(config.connect().await?)))
    }

    /// Makes the CRDs of the package the provider serves known, so its kinds are validated
    /// against them where the cluster has none of its own.
    pub fn add_package(&self, package: &crate::resources::crd_package::CrdPackage) {
        for crd in &package.crds {
            self.0.crds.package(crd);
        }
    }

    /// The cluster's CRDs of `groups` (`pulumi package add aiservice group=<group>`).
    pub async fn crds_of_groups(
        &self,
        groups: &[String],
    ) -> Result<Vec<serde_json::Value>, ResourceError> {
        Ok(self.0.crds_of_groups(groups).await?)
    }

    /// The context of one operation.
    pub fn context(
        &self,
        cancel: CancellationToken,
        progress: Arc<dyn Progress>,
        timeout: Option<Duration>,
        owner: Option<String>,
    ) -> Context {
        Context {
            kube: self.0.clone(),
            cancel,
            progress,
            timeout,
            owner,
        }
    }
}

/// An adapter's session, set when the engine configures the provider.
#[derive(Default)]
pub struct SessionSlot(RwLock<Option<Session>>);

impl SessionSlot {
    pub fn set(&self, session: Session) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Some(session);
    }

    /// `None` until configured (Terraform: while the configuration has unknown values).
    pub fn current(&self) -> Option<Session> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Progress messages shown to the user next to the resource. Never pass secret values.
pub trait Progress: Send + Sync {
    fn info(&self, message: &str);
    fn warn(&self, message: &str);
}

/// Failures of resource operations. Every message names what was expected.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error("{path}: {reason}")]
    Invalid { path: PropertyPath, reason: String },
    /// The object exists but did not become ready: the engine must keep it in state.
    #[error("{object} was created but is not ready: {}", reasons.join("; "))]
    NotReady {
        /// How messages name the object, `ModelServing ns/x`.
        object: String,
        state: State,
        /// Why it is not ready, without naming the object again.
        reasons: Vec<String>,
    },
    /// An object of that name exists that this resource did not create.
    #[error(
        "{what} already exists and was not created by this resource ({origin}); nothing was changed. \
To manage it from here, import it (`pulumi import` or `terraform import` with the id {import_id:?}) \
or set the annotation `{adopt}: \"true\"` on this resource to take it over. \
If you renamed this resource in the program, give it an alias of its old name (Pulumi) or move \
its state (`terraform state mv`, or a `moved` block) instead: a create of the new name and a \
delete of the old one would remove the object"
    )]
    AlreadyExists {
        what: String,
        /// Who created it and which field managers manage it.
        origin: String,
        import_id: String,
        adopt: &'static str,
    },
    #[error("{0}")]
    Kube(#[from] crate::cluster::KubeError),
    #[error("cancelled by the engine")]
    Cancelled,
}

/// A kind of resource the provider manages.
#[async_trait::async_trait]
pub trait Resource: Send + Sync {
    /// What the resource is; both schemas and registries are rendered from it.
    fn describe(&self) -> Description;
    async fn check(&self, ctx: &Context, req: CheckRequest<'_>) -> Result<Checked, ResourceError>;
    fn diff(&self, old_inputs: &Object, old: &State, news: &Object) -> Diff;
    /// Creates the object; in preview nothing is written and the outputs are what the
    /// cluster would return (server-side dry-run) or the inputs when it cannot know yet.
    async fn create(
        &self,
        ctx: &Context,
        inputs: &Object,
        preview: bool,
    ) -> Result<State, ResourceError>;
    /// Returns `None` when the object no longer exists.
    async fn read(
        &self,
        ctx: &Context,
        id: &str,
        old_inputs: &Object,
    ) -> Result<Option<ReadResult>, ResourceError>;
    async fn update(
        &self,
        ctx: &Context,
        old: &State,
        news: &Object,
        preview: bool,
    ) -> Result<State, ResourceError>;
    async fn delete(&self, ctx: &Context, old: &State) -> Result<(), ResourceError>;
}
