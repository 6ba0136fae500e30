//! State a module keeps in memory for one running instance — rate limiters,
//! pending one-time codes, import slots — created on first use and held by
//! the instance's `AppState`, so two instances in one process (test servers)
//! never share it and no module needs a process-wide registry of its own.

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    sync::{Arc, Mutex},
};

#[derive(Default)]
pub struct Instance {
    values: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Instance {
    /// The instance's value of type `T`, made by `init` the first time.
    pub fn get_or_init<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> Arc<T> {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        let v = values
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(init()))
            .clone();
        v.downcast::<T>().expect("stored under its own type id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_type_and_instance() {
        let (a, b) = (Instance::default(), Instance::default());
        let x = a.get_or_init(|| 1u32);
        let y = a.get_or_init(|| 2u32);
        assert!(Arc::ptr_eq(&x, &y), "made once");
        assert_eq!(*b.get_or_init(|| 3u32), 3, "not shared between instances");
        assert_eq!(*a.get_or_init(|| String::from("s")), "s", "one per type");
    }
}
