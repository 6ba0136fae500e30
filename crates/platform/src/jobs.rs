//! Progress of background jobs (imports), kept in memory while they run:
//! a running import holds the database writer, so progress cannot be read
//! from a table it has not committed yet. Final results are in the database.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
};

#[derive(Default, Debug)]
pub struct Progress {
    pub total: AtomicU64,
    pub processed: AtomicU64,
    pub done: AtomicBool,
}

impl Progress {
    pub fn snapshot(&self) -> (u64, u64, bool) {
        (
            self.total.load(Ordering::Relaxed),
            self.processed.load(Ordering::Relaxed),
            self.done.load(Ordering::Relaxed),
        )
    }
}

#[derive(Default, Debug)]
pub struct Jobs {
    map: Mutex<HashMap<i64, Arc<Progress>>>,
}

impl Jobs {
    pub fn start(&self, id: i64) -> Arc<Progress> {
        let p = Arc::new(Progress::default());
        self.map.lock().expect("jobs lock").insert(id, p.clone());
        p
    }
    pub fn get(&self, id: i64) -> Option<Arc<Progress>> {
        self.map.lock().expect("jobs lock").get(&id).cloned()
    }
}
