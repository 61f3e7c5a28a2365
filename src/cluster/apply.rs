use kube::api::{DynamicObject, Patch, PatchParams, ValidationDirective};

use super::{KubeError, KubeLayer, ObjectRef, to_json};

/// How one server-side apply is sent.
#[derive(Clone, Copy, Debug, Default)]
pub struct ApplyOptions {
    /// Validate and default on the server without persisting (preview).
    pub dry_run: bool,
    /// Take over fields another field manager owns.
    pub force: bool,
}

impl KubeLayer {
    /// Server-side applies `desired` (a whole object as JSON) with the provider's field
    /// manager and strict field validation, so a field the schema does not know is an error
    /// instead of being dropped. Returns the object as the apiserver stored (or would store) it.
    pub async fn apply(
        &self,
        object: &ObjectRef,
        desired: &serde_json::Value,
        options: ApplyOptions,
    ) -> Result<serde_json::Value, KubeError> {
        if let Some(dir) = self.render_dir() {
            return super::render::write(dir, object, desired, options.dry_run);
        }
        let params = PatchParams {
            dry_run: options.dry_run,
            force: options.force,
            field_manager: Some(self.field_manager.clone()),
            field_validation: Some(ValidationDirective::Strict),
        };
        let applied: DynamicObject = self
            .api(object)?
            .patch(&object.name, &params, &Patch::Apply(desired))
            .await
            .map_err(|e| KubeError::from_kube(&object.describe(), e))?;
        to_json(&applied, object)
    }
}
