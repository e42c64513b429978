//! Durable object storage on redb: objects keyed by group/resource/namespace/name, one global
//! resourceVersion counter, and an event log with bounded retention that feeds watches.
//!
//! Every acknowledged write is committed (fsync) before the caller sees it. All objects are also
//! held in memory so reads and lists never touch the disk.

use crate::error::{ApiError, ApiResult};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use tokio::sync::broadcast;

const OBJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("objects");
const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Errors opening or loading the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or created.
    #[error("opening storage database {path}: {source}")]
    Open {
        /// Database path.
        path: String,
        /// Cause.
        #[source]
        source: redb::DatabaseError,
    },
    /// Reading stored data failed.
    #[error("loading stored objects: {0}")]
    Load(String),
}

/// Where an object lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjKey {
    /// API group.
    pub group: String,
    /// Plural resource.
    pub resource: String,
    /// Namespace ("" for cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjKey {
    /// A key from its parts.
    pub fn new(group: &str, resource: &str, namespace: &str, name: &str) -> Self {
        Self {
            group: group.into(),
            resource: resource.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    fn encode(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.group, self.resource, self.namespace, self.name
        )
    }

    fn decode(s: &str) -> Option<Self> {
        let mut it = s.splitn(4, '/');
        Some(Self::new(it.next()?, it.next()?, it.next()?, it.next()?))
    }
}

/// Watch event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Removed.
    Deleted,
}

impl EventType {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "ADDED" => Self::Added,
            "DELETED" => Self::Deleted,
            _ => Self::Modified,
        }
    }
}

/// One persisted change.
#[derive(Debug, Clone)]
pub struct Event {
    /// The resourceVersion of the change.
    pub rv: u64,
    /// Type.
    pub etype: EventType,
    /// Object key.
    pub key: ObjKey,
    /// New state (last state for deletions), with `metadata.resourceVersion` = `rv`.
    pub object: Arc<Value>,
    /// Previous state when known (live events), for selector transitions.
    pub old: Option<Arc<Value>>,
}

/// Serialized JSON of one object version. Objects are kept serialized in memory (a parsed
/// `serde_json::Value` costs several times its JSON size) and shared between the object map and
/// the event log, so retained history costs one pointer per version still referenced.
type Bytes = Arc<[u8]>;

/// Parses a stored object (always written by `serde_json::to_vec`, so failure means corruption).
fn decode(b: &[u8]) -> Option<Arc<Value>> {
    match serde_json::from_slice::<Value>(b) {
        Ok(v) => Some(Arc::new(v)),
        Err(e) => {
            tracing::error!(error = %e, "decoding a stored object failed");
            None
        }
    }
}

/// One stored object as its serialized JSON, with its key within the listed resource: lists
/// can filter by key and copy the bytes into a response without parsing.
#[derive(Debug, Clone)]
pub struct Raw {
    /// Namespace ("" for cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The object's JSON (as stored, in the storage version).
    pub json: Arc<[u8]>,
}

impl Raw {
    /// The parsed object.
    pub fn value(&self) -> Option<Arc<Value>> {
        decode(&self.json)
    }
}

/// One retained change of the event log.
struct LogEntry {
    rv: u64,
    etype: EventType,
    key: ObjKey,
    object: Bytes,
    /// The state before this change (`None` for creations, or when it was not retained across a
    /// restart): what list snapshots at older resourceVersions and selector transitions need.
    prev: Option<Bytes>,
}

impl LogEntry {
    /// The event, with the previous state of the object when known (needed for selector
    /// transitions on resume).
    fn event(&self) -> Option<Arc<Event>> {
        let object = decode(&self.object)?;
        let old = self.prev.as_deref().and_then(decode);
        Some(Arc::new(Event {
            rv: self.rv,
            etype: self.etype,
            key: self.key.clone(),
            object,
            old,
        }))
    }
}

/// What a mutation closure decides.
pub enum Change {
    /// Leave the object as it is (no-op write: no RV, no event).
    Keep,
    /// Store this object (create or update).
    Put(Value),
    /// Remove the object; the value is its last state.
    Delete(Value),
}

/// Result of a mutation.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The object after the mutation (the current one for `Keep`).
    pub object: Option<Arc<Value>>,
    /// The event emitted, if anything was written.
    pub etype: Option<EventType>,
}

type Bucket = BTreeMap<(String, String), Bytes>;
type ParsedBucket = BTreeMap<(String, String), Arc<Value>>;

struct State {
    rv: u64,
    objects: HashMap<(String, String), Bucket>,
    /// Retained history (serialized, sharing bytes with `objects`).
    log: VecDeque<LogEntry>,
    /// Events with rv <= compacted are no longer retained.
    compacted: u64,
    /// Parsed copies of the small resources read on every request (RBAC for authorization,
    /// namespaces, CRDs), so those reads never parse.
    hot: HashMap<(String, String), ParsedBucket>,
}

/// Whether a resource is kept parsed too (see `State::hot`).
fn is_hot(group: &str, resource: &str) -> bool {
    matches!(
        (group, resource),
        ("rbac.authorization.k8s.io", _)
            | ("", "namespaces")
            | ("apiextensions.k8s.io", "customresourcedefinitions")
    )
}

/// Where a watch starts.
pub enum WatchStart {
    /// Current objects (as ADDED) then changes after `rv`.
    Initial { objects: Vec<Arc<Value>>, rv: u64 },
    /// Retained events after the requested RV, then live ones.
    Replay { events: Vec<Arc<Event>>, rv: u64 },
}

/// One write waiting for the group commit.
struct Pending {
    key: String,
    delete: bool,
    bytes: Bytes,
    rv: u64,
    ev_bytes: Vec<u8>,
    drop_rv: Option<u64>,
    event: Arc<Event>,
}

/// The group-commit queue shared with the committer thread: writers enqueue in RV order, the
/// committer writes everything queued in one fsynced transaction, then publishes the new
/// durable RV and broadcasts the events (watchers only ever see durable changes).
struct Committer {
    queue: Mutex<Vec<Pending>>,
    wake: Condvar,
    durable: Mutex<(u64, Option<String>)>,
    durable_cv: Condvar,
    durable_tx: tokio::sync::watch::Sender<u64>,
    shutdown: std::sync::atomic::AtomicBool,
}

/// The store.
pub struct Store {
    state: Mutex<State>,
    tx: broadcast::Sender<Arc<Event>>,
    retention: usize,
    committer: Arc<Committer>,
}

impl Drop for Store {
    fn drop(&mut self) {
        self.committer
            .shutdown
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.committer.wake.notify_all();
    }
}

fn commit_loop(db: Database, c: Arc<Committer>, tx: broadcast::Sender<Arc<Event>>) {
    loop {
        let batch = {
            let mut q = c.queue.lock().expect("commit queue");
            while q.is_empty() {
                if c.shutdown.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                q = c
                    .wake
                    .wait_timeout(q, std::time::Duration::from_millis(200))
                    .expect("commit queue")
                    .0;
            }
            std::mem::take(&mut *q)
        };
        let last = batch.last().map(|p| p.rv).unwrap_or(0);
        let result = write_batch(&db, &batch);
        {
            let mut d = c.durable.lock().expect("durable lock");
            match result {
                Ok(()) => d.0 = last,
                Err(e) => {
                    tracing::error!(error = %e, "committing storage batch failed");
                    d.1 = Some(e.to_string());
                }
            }
            c.durable_cv.notify_all();
        }
        c.durable_tx.send_replace(last);
        for p in batch {
            // No receivers is fine; lagging receivers are disconnected by the watch loop.
            let _ = tx.send(p.event);
        }
    }
}

fn write_batch(db: &Database, batch: &[Pending]) -> Result<(), Box<dyn std::error::Error>> {
    let w = db.begin_write()?;
    {
        let mut objs = w.open_table(OBJECTS)?;
        let mut evs = w.open_table(EVENTS)?;
        for p in batch {
            if p.delete {
                objs.remove(p.key.as_str())?;
            } else {
                objs.insert(p.key.as_str(), &*p.bytes)?;
            }
            evs.insert(p.rv, p.ev_bytes.as_slice())?;
            if let Some(d) = p.drop_rv {
                evs.remove(d)?;
            }
        }
        let mut meta = w.open_table(META)?;
        if let Some(p) = batch.last() {
            meta.insert("rv", p.rv)?;
        }
    }
    w.commit()?;
    Ok(())
}

fn set_rv(v: &mut Value, rv: u64) {
    crate::util::meta_mut(v).insert("resourceVersion".into(), Value::String(rv.to_string()));
}

impl Store {
    /// Opens (or creates) the database at `path`, keeping at most `retention` events for watch
    /// resume; `watch_buffer` events may queue per watcher before a slow one is disconnected.
    pub fn open(path: &Path, retention: usize, watch_buffer: usize) -> Result<Self, StoreError> {
        // A bounded page cache: objects are held in memory anyway, redb's default cache (up to
        // 1 GiB) would mostly duplicate them.
        let db = redb::Builder::new()
            .set_cache_size(16 << 20)
            .create(path)
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        let load = |e: &dyn std::fmt::Display| StoreError::Load(e.to_string());
        {
            let w = db.begin_write().map_err(|e| load(&e))?;
            w.open_table(OBJECTS).map_err(|e| load(&e))?;
            w.open_table(EVENTS).map_err(|e| load(&e))?;
            w.open_table(META).map_err(|e| load(&e))?;
            w.commit().map_err(|e| load(&e))?;
        }
        let r = db.begin_read().map_err(|e| load(&e))?;
        let meta = r.open_table(META).map_err(|e| load(&e))?;
        let rv = meta
            .get("rv")
            .map_err(|e| load(&e))?
            .map(|g| g.value())
            .unwrap_or(0);
        let mut objects: HashMap<(String, String), Bucket> = HashMap::new();
        let objs = r.open_table(OBJECTS).map_err(|e| load(&e))?;
        for item in objs.iter().map_err(|e| load(&e))? {
            let (k, v) = item.map_err(|e| load(&e))?;
            let key = ObjKey::decode(k.value())
                .ok_or_else(|| StoreError::Load(format!("bad key {}", k.value())))?;
            serde_json::from_slice::<serde::de::IgnoredAny>(v.value()).map_err(|e| load(&e))?;
            objects
                .entry((key.group, key.resource))
                .or_default()
                .insert((key.namespace, key.name), Bytes::from(v.value()));
        }
        let mut log = VecDeque::new();
        let mut latest: HashMap<ObjKey, Bytes> = HashMap::new();
        let evs = r.open_table(EVENTS).map_err(|e| load(&e))?;
        for item in evs.iter().map_err(|e| load(&e))? {
            let (k, v) = item.map_err(|e| load(&e))?;
            let raw: Value = serde_json::from_slice(v.value()).map_err(|e| load(&e))?;
            let key = ObjKey::decode(raw["k"].as_str().unwrap_or_default())
                .ok_or_else(|| StoreError::Load("bad event key".into()))?;
            let fresh = serde_json::to_vec(&raw["o"]).map_err(|e| load(&e))?;
            // Share the bytes with the object map when this is the current version.
            let object: Bytes = match objects
                .get(&(key.group.clone(), key.resource.clone()))
                .and_then(|b| b.get(&(key.namespace.clone(), key.name.clone())))
            {
                Some(cur) if **cur == *fresh => cur.clone(),
                _ => fresh.into(),
            };
            let etype = EventType::parse(raw["t"].as_str().unwrap_or_default());
            let prev = match etype {
                EventType::Added => {
                    latest.remove(&key);
                    None
                }
                _ => latest.get(&key).cloned(),
            };
            latest.insert(key.clone(), object.clone());
            log.push_back(LogEntry {
                rv: k.value(),
                etype,
                key,
                object,
                prev,
            });
        }
        drop(latest);
        let compacted = log.front().map(|e| e.rv - 1).unwrap_or(rv);
        drop((meta, objs, evs, r));
        let (tx, _) = broadcast::channel(watch_buffer.max(1));
        let committer = Arc::new(Committer {
            queue: Mutex::new(Vec::new()),
            wake: Condvar::new(),
            durable: Mutex::new((rv, None)),
            durable_cv: Condvar::new(),
            durable_tx: tokio::sync::watch::Sender::new(rv),
            shutdown: std::sync::atomic::AtomicBool::new(false),
        });
        let (c, t) = (committer.clone(), tx.clone());
        std::thread::Builder::new()
            .name("apiserver-commit".into())
            .spawn(move || commit_loop(db, c, t))
            .map_err(|e| StoreError::Load(format!("starting the commit thread: {e}")))?;
        Ok(Self {
            state: Mutex::new(State {
                rv,
                hot: objects
                    .iter()
                    .filter(|((g, r), _)| is_hot(g, r))
                    .map(|(k, b)| {
                        let parsed = b
                            .iter()
                            .filter_map(|(item, json)| Some((item.clone(), decode(json)?)))
                            .collect();
                        (k.clone(), parsed)
                    })
                    .collect(),
                objects,
                log,
                compacted,
            }),
            tx,
            retention: retention.max(1),
            committer,
        })
    }

    /// Subscribes to every durable change (all resources), for the server's own background
    /// loops; a receiver that falls behind gets `Lagged` and should rescan.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// The current resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.state.lock().expect("store lock").rv
    }

    /// The oldest resourceVersion a watch may resume from.
    pub fn compacted_rv(&self) -> u64 {
        self.state.lock().expect("store lock").compacted
    }

    /// One object.
    pub fn get(&self, key: &ObjKey) -> Option<Arc<Value>> {
        let bytes = {
            let st = self.state.lock().expect("store lock");
            let bucket = (key.group.clone(), key.resource.clone());
            let item = (key.namespace.clone(), key.name.clone());
            if let Some(hot) = st.hot.get(&bucket) {
                return hot.get(&item).cloned();
            }
            st.objects
                .get(&bucket)
                .and_then(|b| b.get(&item))
                .cloned()?
        };
        decode(&bytes)
    }

    /// One object's stored JSON, unparsed.
    pub fn get_raw(&self, key: &ObjKey) -> Option<Arc<[u8]>> {
        let st = self.state.lock().expect("store lock");
        st.objects
            .get(&(key.group.clone(), key.resource.clone()))
            .and_then(|b| b.get(&(key.namespace.clone(), key.name.clone())))
            .cloned()
    }

    /// All objects of a resource (optionally one namespace), sorted by namespace then name,
    /// with the RV the list is consistent at.
    pub fn list(
        &self,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> (u64, Vec<Arc<Value>>) {
        let (rv, raw) = {
            let st = self.state.lock().expect("store lock");
            if let Some(hot) = st.hot.get(&(group.to_string(), resource.to_string())) {
                let items = match namespace {
                    None => hot.values().cloned().collect(),
                    Some(ns) => hot
                        .range((ns.to_string(), String::new())..)
                        .take_while(|((n, _), _)| n == ns)
                        .map(|(_, v)| v.clone())
                        .collect(),
                };
                return (st.rv, items);
            }
            (st.rv, Self::collect(&st, group, resource, namespace))
        };
        (rv, raw.iter().filter_map(|b| decode(b)).collect())
    }

    /// Like [`Store::list`], serialized and keyed (see [`Raw`]).
    pub fn list_raw(
        &self,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> (u64, Vec<Raw>) {
        let st = self.state.lock().expect("store lock");
        let Some(bucket) = st.objects.get(&(group.to_string(), resource.to_string())) else {
            return (st.rv, vec![]);
        };
        let raw = |((ns, name), b): (&(String, String), &Bytes)| Raw {
            namespace: ns.clone(),
            name: name.clone(),
            json: b.clone(),
        };
        let items = match namespace {
            None => bucket.iter().map(raw).collect(),
            Some(ns) => bucket
                .range((ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(raw)
                .collect(),
        };
        (st.rv, items)
    }

    /// Like [`Store::list_raw`], but as the objects were at resourceVersion `at` (a consistent
    /// snapshot for continued lists), rebuilt from the current objects by undoing the retained
    /// history newer than `at`, starting after the key `after` (namespace, name) when given.
    /// `None` when the history no longer reaches back to `at`.
    pub fn list_at(
        &self,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
        at: u64,
        after: Option<(&str, &str)>,
    ) -> Option<Vec<Raw>> {
        use std::ops::Bound;
        let after = after.map(|(ns, name)| (ns.to_string(), name.to_string()));
        let snapshot = {
            let st = self.state.lock().expect("store lock");
            if at < st.compacted || at > st.rv {
                return None;
            }
            let start = match (&after, namespace) {
                (Some(a), Some(ns)) if a.0.as_str() < ns => {
                    Bound::Included((ns.to_string(), String::new()))
                }
                (Some(a), _) => Bound::Excluded(a.clone()),
                (None, Some(ns)) => Bound::Included((ns.to_string(), String::new())),
                (None, None) => Bound::Unbounded,
            };
            let mut snap: BTreeMap<(String, String), Bytes> = st
                .objects
                .get(&(group.to_string(), resource.to_string()))
                .map(|b| {
                    b.range((start, Bound::Unbounded))
                        .take_while(|((n, _), _)| namespace.is_none_or(|ns| n == ns))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            for e in st.log.iter().rev().take_while(|e| e.rv > at) {
                if e.key.group != group
                    || e.key.resource != resource
                    || namespace.is_some_and(|ns| ns != e.key.namespace)
                {
                    continue;
                }
                let k = (e.key.namespace.clone(), e.key.name.clone());
                if after.as_ref().is_some_and(|a| k <= *a) {
                    continue;
                }
                match (e.etype, &e.prev) {
                    (EventType::Added, _) => {
                        snap.remove(&k);
                    }
                    (_, Some(prev)) => {
                        snap.insert(k, prev.clone());
                    }
                    // The state before this change was not retained (restart).
                    (_, None) => return None,
                }
            }
            snap
        };
        Some(
            snapshot
                .into_iter()
                .map(|((namespace, name), json)| Raw {
                    namespace,
                    name,
                    json,
                })
                .collect(),
        )
    }

    /// Number of stored objects of a resource.
    pub fn count(&self, group: &str, resource: &str) -> usize {
        let st = self.state.lock().expect("store lock");
        st.objects
            .get(&(group.to_string(), resource.to_string()))
            .map(|b| b.len())
            .unwrap_or(0)
    }

    fn collect(st: &State, group: &str, resource: &str, namespace: Option<&str>) -> Vec<Bytes> {
        let Some(bucket) = st.objects.get(&(group.to_string(), resource.to_string())) else {
            return vec![];
        };
        match namespace {
            None => bucket.values().cloned().collect(),
            Some(ns) => bucket
                .range((ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, v)| v.clone())
                .collect(),
        }
    }

    /// Starts a watch: atomically captures the starting point and subscribes to live events so
    /// nothing is missed in between. `from = None` asks for the current objects.
    pub fn watch(
        &self,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
        from: Option<u64>,
    ) -> ApiResult<(WatchStart, broadcast::Receiver<Arc<Event>>)> {
        let st = self.state.lock().expect("store lock");
        let rx = self.tx.subscribe();
        match from {
            None => {
                let (raw, rv) = (Self::collect(&st, group, resource, namespace), st.rv);
                drop(st);
                Ok((
                    WatchStart::Initial {
                        objects: raw.iter().filter_map(|b| decode(b)).collect(),
                        rv,
                    },
                    rx,
                ))
            }
            Some(rv) => {
                if rv < st.compacted {
                    return Err(ApiError::expired(format!(
                        "too old resource version: {rv} ({})",
                        st.compacted + 1
                    )));
                }
                let events = st
                    .log
                    .iter()
                    .filter(|e| e.rv > rv && e.key.group == group && e.key.resource == resource)
                    .filter(|e| namespace.is_none_or(|ns| ns == e.key.namespace))
                    .filter_map(LogEntry::event)
                    .collect();
                Ok((
                    WatchStart::Replay {
                        events,
                        rv: st.rv.max(rv),
                    },
                    rx,
                ))
            }
        }
    }

    /// Reads, decides and writes one object atomically. The closure sees the current object and
    /// the RV the write would get; a `Put`/`Delete` is applied in memory and queued for the group
    /// commit: callers acknowledge it only after [`Store::durable`].
    pub fn mutate<F>(&self, key: &ObjKey, f: F) -> ApiResult<Outcome>
    where
        F: FnOnce(Option<&Arc<Value>>, u64) -> ApiResult<Change>,
    {
        let mut st = self.state.lock().expect("store lock");
        let bucket_key = (key.group.clone(), key.resource.clone());
        let item_key = (key.namespace.clone(), key.name.clone());
        let current_bytes = st
            .objects
            .get(&bucket_key)
            .and_then(|b| b.get(&item_key))
            .cloned();
        let current = match st.hot.get(&bucket_key) {
            Some(hot) => hot.get(&item_key).cloned(),
            None => current_bytes.as_deref().and_then(decode),
        };
        let next_rv = st.rv + 1;
        let change = f(current.as_ref(), next_rv)?;
        let (etype, mut obj) = match change {
            Change::Keep => {
                return Ok(Outcome {
                    object: current,
                    etype: None,
                });
            }
            Change::Put(v) => (
                if current.is_some() {
                    EventType::Modified
                } else {
                    EventType::Added
                },
                v,
            ),
            Change::Delete(v) => (EventType::Deleted, v),
        };
        set_rv(&mut obj, next_rv);
        let bytes: Bytes = serde_json::to_vec(&obj).map_err(ApiError::internal)?.into();
        let ekey = key.encode();
        // The log record `{"t":…,"k":…,"o":…}`, spliced from the already serialized object.
        let mut ev_bytes = Vec::with_capacity(bytes.len() + ekey.len() + 32);
        ev_bytes.extend_from_slice(b"{\"t\":\"");
        ev_bytes.extend_from_slice(etype.as_str().as_bytes());
        ev_bytes.extend_from_slice(b"\",\"k\":");
        serde_json::to_writer(&mut ev_bytes, &ekey).map_err(ApiError::internal)?;
        ev_bytes.extend_from_slice(b",\"o\":");
        ev_bytes.extend_from_slice(&bytes);
        ev_bytes.push(b'}');
        let drop_rv = next_rv
            .checked_sub(self.retention as u64)
            .filter(|r| *r > 0);
        let obj = Arc::new(obj);
        st.rv = next_rv;
        if is_hot(&key.group, &key.resource) {
            let hot = st.hot.entry(bucket_key.clone()).or_default();
            if etype == EventType::Deleted {
                hot.remove(&item_key);
            } else {
                hot.insert(item_key.clone(), obj.clone());
            }
        }
        let bucket = st.objects.entry(bucket_key).or_default();
        if etype == EventType::Deleted {
            bucket.remove(&item_key);
        } else {
            bucket.insert(item_key, bytes.clone());
        }
        let ev = Arc::new(Event {
            rv: next_rv,
            etype,
            key: key.clone(),
            object: obj.clone(),
            old: current,
        });
        st.log.push_back(LogEntry {
            rv: next_rv,
            etype,
            key: key.clone(),
            object: bytes.clone(),
            prev: current_bytes,
        });
        while st.log.len() > self.retention {
            if let Some(e) = st.log.pop_front() {
                st.compacted = e.rv;
            }
        }
        self.committer
            .queue
            .lock()
            .expect("commit queue")
            .push(Pending {
                key: ekey,
                delete: etype == EventType::Deleted,
                bytes,
                rv: next_rv,
                ev_bytes,
                drop_rv,
                event: ev,
            });
        self.committer.wake.notify_one();
        Ok(Outcome {
            object: Some(obj),
            etype: Some(etype),
        })
    }

    /// Waits until every write up to the current resourceVersion is on disk (fsynced).
    pub async fn durable(&self) -> ApiResult<()> {
        let want = self.current_rv();
        let mut rx = self.committer.durable_tx.subscribe();
        if let Some(e) = self
            .committer
            .durable
            .lock()
            .expect("durable lock")
            .1
            .clone()
        {
            return Err(ApiError::internal(format!("storage failed: {e}")));
        }
        rx.wait_for(|d| *d >= want)
            .await
            .map_err(ApiError::internal)?;
        if let Some(e) = self
            .committer
            .durable
            .lock()
            .expect("durable lock")
            .1
            .clone()
        {
            return Err(ApiError::internal(format!("storage failed: {e}")));
        }
        Ok(())
    }

    /// Blocking form of [`Store::durable`] for non-async callers.
    pub fn durable_blocking(&self) {
        let want = self.current_rv();
        let mut d = self.committer.durable.lock().expect("durable lock");
        while d.0 < want && d.1.is_none() {
            d = self.committer.durable_cv.wait(d).expect("durable lock");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn put(s: &Store, group: &str, res: &str, name: &str, v: &str) -> u64 {
        let key = ObjKey::new(group, res, "ns", name);
        let obj = json!({"metadata": {"name": name, "namespace": "ns"}, "data": {"v": v}});
        s.mutate(&key, |_, _| Ok(Change::Put(obj))).unwrap();
        s.durable_blocking();
        s.current_rv()
    }

    /// Opens, waiting for a dropped store's commit thread to release the database.
    fn reopen(path: &Path, retention: usize) -> Store {
        for _ in 0..100 {
            match Store::open(path, retention, 16) {
                Ok(s) => return s,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
        Store::open(path, retention, 16).unwrap()
    }

    fn names(items: &[Raw]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|r| {
                let v = r.value().unwrap();
                (r.name.clone(), v["data"]["v"].as_str().unwrap().to_string())
            })
            .collect()
    }

    #[test]
    fn snapshots_rebuilt_from_the_log_survive_restart_and_expire_with_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let at = {
            let s = Store::open(&path, 100, 16).unwrap();
            put(&s, "", "configmaps", "a", "1");
            let at = put(&s, "", "configmaps", "b", "1");
            put(&s, "", "configmaps", "a", "2");
            put(&s, "", "configmaps", "c", "1");
            let key = ObjKey::new("", "configmaps", "ns", "b");
            s.mutate(&key, |cur, _| Ok(Change::Delete((**cur.unwrap()).clone())))
                .unwrap();
            s.durable_blocking();
            let snap = s.list_at("", "configmaps", Some("ns"), at, None).unwrap();
            assert_eq!(
                names(&snap),
                [("a".into(), "1".into()), ("b".into(), "1".into())]
            );
            at
        };
        // Reopened: the previous states come back from the persisted log.
        let s = reopen(&path, 3);
        let (_, now) = s.list_raw("", "configmaps", None);
        assert_eq!(
            names(&now),
            [("a".into(), "2".into()), ("c".into(), "1".into())]
        );
        let snap = s.list_at("", "configmaps", None, at, None).unwrap();
        assert_eq!(
            names(&snap),
            [("a".into(), "1".into()), ("b".into(), "1".into())]
        );
        let rest = s
            .list_at("", "configmaps", Some("ns"), at, Some(("ns", "a")))
            .unwrap();
        assert_eq!(names(&rest), [("b".into(), "1".into())]);
        // Retention 3: a few more writes compact the history past `at`.
        for i in 0..4 {
            put(&s, "", "configmaps", "c", &i.to_string());
        }
        assert!(s.list_at("", "configmaps", None, at, None).is_none());
    }

    #[test]
    fn hot_resources_are_served_parsed_and_stay_in_step_with_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let s = Store::open(&path, 100, 16).unwrap();
            put(&s, "rbac.authorization.k8s.io", "roles", "r", "1");
            put(&s, "rbac.authorization.k8s.io", "roles", "r", "2");
        }
        let s = reopen(&path, 100);
        let key = ObjKey::new("rbac.authorization.k8s.io", "roles", "ns", "r");
        assert_eq!(s.get(&key).unwrap()["data"]["v"], "2");
        put(&s, "rbac.authorization.k8s.io", "roles", "r", "3");
        let (_, l) = s.list("rbac.authorization.k8s.io", "roles", Some("ns"));
        assert_eq!(l.len(), 1);
        assert_eq!(l[0]["data"]["v"], "3");
        let raw = s.get_raw(&key).unwrap();
        let v: Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(v, *l[0]);
        s.mutate(&key, |cur, _| Ok(Change::Delete((**cur.unwrap()).clone())))
            .unwrap();
        assert!(s.get(&key).is_none());
        assert!(
            s.list("rbac.authorization.k8s.io", "roles", None)
                .1
                .is_empty()
        );
    }
}
