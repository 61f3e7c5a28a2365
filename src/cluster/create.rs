//! Creating an object without ever taking over one that exists. A server-side apply creates
//! or updates whatever has the name, so a "create" by apply silently takes over another
//! stack's object (and that stack's destroy, or a rename's delete, then removes it). A plain
//! create (POST) is refused with AlreadyExists instead, and the caller decides what an
//! existing object is.

use kube::api::{DynamicObject, Patch, PatchParams, PostParams};

use super::{KubeError, KubeLayer, ObjectRef, to_json, to_json_whole, without_managed_fields};

/// What a create found.
pub enum Created {
    /// The apiserver created the object (in a dry-run: would create it), as it stored it.
    New(serde_json::Value),
    /// An object of that name exists: as the apiserver has it, `managedFields` included, so
    /// the caller can tell who made and who manages it.
    Exists(serde_json::Value),
}

impl KubeLayer {
    /// Creates `desired` (a whole object as JSON) with the provider's field manager and strict
    /// field validation (an unknown field is an error, not dropped). A real create is followed
    /// by [`KubeLayer::claim_created_fields`], so later server-side applies own what the create
    /// set.
    pub async fn create(
        &self,
        object: &ObjectRef,
        desired: &serde_json::Value,
        dry_run: bool,
    ) -> Result<Created, KubeError> {
        if let Some(dir) = self.render_dir() {
            return super::render::write(dir, object, desired, dry_run).map(Created::New);
        }
        let api = self.api(object)?;
        let params = PostParams {
            dry_run,
            field_manager: Some(self.field_manager.clone()),
        };
        let body = serde_json::to_vec(desired).map_err(|e| KubeError::Api {
            what: object.describe(),
            code: 400,
            reason: "BadRequest".into(),
            message: e.to_string(),
        })?;
        let mut request = kube::core::Request::new(api.resource_url())
            .create(&params, body)
            .map_err(|e| KubeError::from_kube(&object.describe(), kube::Error::BuildRequest(e)))?;
        // PostParams has no field validation; the query string takes it as apply does. The URI
        // already has a query (the field manager), and appending to a valid URI keeps it valid.
        if let Ok(uri) = format!("{}&fieldValidation=Strict", request.uri()).parse() {
            *request.uri_mut() = uri;
        }
        request.extensions_mut().insert("create");
        match self.client()?.request::<DynamicObject>(request).await {
            Ok(created) if dry_run => Ok(Created::New(to_json(&created, object)?)),
            Ok(created) => {
                let created = to_json_whole(&created, object)?;
                Ok(Created::New(
                    self.claim_created_fields(object, &created).await?,
                ))
            }
            Err(kube::Error::Api(status))
                if status.code == 409 && status.reason == "AlreadyExists" =>
            {
                match api.get_opt(&object.name).await {
                    Ok(Some(live)) => Ok(Created::Exists(to_json_whole(&live, object)?)),
                    // Deleted again in between: report the refusal as the apiserver gave it.
                    Ok(None) => Err(KubeError::from_kube(
                        &object.describe(),
                        kube::Error::Api(status),
                    )),
                    Err(e) => Err(KubeError::from_kube(&object.describe(), e)),
                }
            }
            Err(e) => Err(KubeError::from_kube(&object.describe(), e)),
        }
    }

    /// Turns what this provider's create recorded as an update (the field manager's
    /// `Update` entry in `managedFields`) into its apply entry, as `kubectl` does when it
    /// moves client-side objects to server-side apply. Without it, a later apply that changes
    /// a created field would conflict with the provider's own create. Does nothing when the
    /// object has no such entry. Returns the object as stored afterwards.
    pub async fn claim_created_fields(
        &self,
        object: &ObjectRef,
        live: &serde_json::Value,
    ) -> Result<serde_json::Value, KubeError> {
        let api = self.api(object)?;
        let mut live = live.clone();
        // Controllers write status right after a create (a CRD's conditions), which moves the
        // resourceVersion on: read again and retry.
        for _ in 0..CLAIM_ATTEMPTS {
            let Some(patch) = self.claim_patch(&live) else {
                return Ok(without_managed_fields(live));
            };
            match api
                .patch(&object.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(claimed) => return to_json(&claimed, object),
                Err(kube::Error::Api(status)) if status.code == 409 => {
                    match api.get_opt(&object.name).await {
                        Ok(Some(again)) => live = to_json_whole(&again, object)?,
                        Ok(None) => return Ok(without_managed_fields(live)),
                        Err(e) => return Err(KubeError::from_kube(&object.describe(), e)),
                    }
                }
                Err(e) => return Err(KubeError::from_kube(&object.describe(), e)),
            }
        }
        Err(KubeError::Api {
            what: object.describe(),
            code: 409,
            reason: "Conflict".into(),
            message: format!(
                "created, but others kept writing it: {CLAIM_ATTEMPTS} attempts to record field manager {} as applying its fields failed",
                self.field_manager
            ),
        })
    }

    /// The merge patch that turns this provider's `Update` entries of `managedFields` into
    /// `Apply` entries; `None` when there are none. The resourceVersion makes the patch fail
    /// rather than overwrite a concurrent change.
    fn claim_patch(&self, live: &serde_json::Value) -> Option<serde_json::Value> {
        let mut entries = live["metadata"]["managedFields"].clone();
        let mut changed = false;
        for entry in entries.as_array_mut().into_iter().flatten() {
            if entry["manager"] == self.field_manager.as_str() && entry["operation"] == "Update" {
                entry["operation"] = "Apply".into();
                changed = true;
            }
        }
        changed.then(|| {
            serde_json::json!({"metadata": {
                "managedFields": entries,
                "resourceVersion": live["metadata"]["resourceVersion"],
            }})
        })
    }
}

/// How often a claim is retried when others keep writing the object.
const CLAIM_ATTEMPTS: usize = 10;
