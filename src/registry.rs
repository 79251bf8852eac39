//! The registry: model names → [`ModelInfo`]. The loader looks models up
//! here; a user's crate adds its own models with [`Registry::register`] and
//! hands the registry to the library's CLI entry point.

use std::collections::BTreeMap;

use crate::model::ModelInfo;

// The did-you-mean helper lives in `crate::suggest`; it stays public here,
// at `cspsim::registry::closest`, where library users found it.
pub use crate::suggest::closest;

/// The models a circuit may use, by name.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    models: BTreeMap<&'static str, ModelInfo>,
}

impl Registry {
    /// A registry with no models.
    pub fn empty() -> Self {
        Self::default()
    }

    /// A registry holding the standard primitive models.
    pub fn standard() -> Self {
        let mut registry = Self::empty();
        for info in crate::primitives::all() {
            registry.register(info);
        }
        registry
    }

    /// Add a model; returns the model it replaces, if one had that name.
    pub fn register(&mut self, info: ModelInfo) -> Option<ModelInfo> {
        self.models.insert(info.name, info)
    }

    /// The model called `name`.
    pub fn get(&self, name: &str) -> Option<&ModelInfo> {
        self.models.get(name)
    }

    /// Every model, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &ModelInfo> {
        self.models.values()
    }

    /// The registered name closest to `name`, for "did you mean" hints.
    pub fn closest(&self, name: &str) -> Option<&'static str> {
        closest(name, self.models.keys().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_registry_holds_the_primitives_and_suggests_names() {
        let r = Registry::standard();
        for name in ["const", "register", "counter", "alu", "mux", "concat"] {
            assert!(r.get(name).is_some(), "{name} missing");
        }
        assert_eq!(r.closest("countr"), Some("counter"));
        assert_eq!(r.closest("zzzzzz"), None);
        assert_eq!(closest("rgg", ["cnt", "reg"]), Some("reg"));
        assert_eq!(closest("ab", ["xy"]), None);
    }
}
