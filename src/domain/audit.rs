//! The tamper-evident audit log: entries are hash-chained, each hash covering the previous
//! entry's hash and every field of its own, so altering, deleting or reordering any stored entry
//! breaks the chain from that entry on.

use sha2::{Digest, Sha256};

/// The hash the first entry chains from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of an entry that its hash covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryFields<'a> {
    pub id: i64,
    /// RFC 3339, UTC, to the microsecond: the same text on every backend.
    pub at: &'a str,
    pub actor_id: Option<i64>,
    pub action: &'a str,
    pub subject: &'a str,
    pub detail: &'a str,
}

/// The entry's hash: SHA-256 over the previous hash and the fields, length-prefixed so no two
/// different entries can serialise alike.
pub fn entry_hash(prev_hash: &str, f: &EntryFields<'_>) -> String {
    let mut h = Sha256::new();
    let actor = f.actor_id.map(|a| a.to_string()).unwrap_or_default();
    let id = f.id.to_string();
    for part in [prev_hash, &id, f.at, &actor, f.action, f.subject, f.detail] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// A stored entry as read back for verification.
#[derive(Clone, Debug)]
pub struct StoredEntry {
    pub id: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The first entry where the chain breaks, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Break {
    pub id: i64,
    pub reason: String,
}

/// Checks a chain entry by entry, so a long log can be verified a page at a time.
#[derive(Clone, Debug)]
pub struct ChainVerifier {
    prev: String,
    pub checked: usize,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier { prev: GENESIS.to_string(), checked: 0 }
    }
}

impl ChainVerifier {
    /// Checks the next entry (in id order) against the one before it.
    pub fn push(&mut self, e: &StoredEntry) -> Result<(), Break> {
        if e.prev_hash != self.prev {
            return Err(Break { id: e.id, reason: "its previous-hash does not match the entry before it (an entry was removed or reordered)".into() });
        }
        let fields = EntryFields { id: e.id, at: &e.at, actor_id: e.actor_id, action: &e.action, subject: &e.subject, detail: &e.detail };
        if entry_hash(&self.prev, &fields) != e.hash {
            return Err(Break { id: e.id, reason: "its content does not match its hash (the entry was altered)".into() });
        }
        self.prev = e.hash.clone();
        self.checked += 1;
        Ok(())
    }
}

/// Checks entries in id order. `Ok(n)` is the number of entries verified.
pub fn verify<'a>(entries: impl IntoIterator<Item = &'a StoredEntry>) -> Result<usize, Break> {
    let mut v = ChainVerifier::default();
    for e in entries {
        v.push(e)?;
    }
    Ok(v.checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|id| {
                let at = format!("2026-11-24T08:00:{id:02}.000000Z");
                let detail = format!("{{\"score\":{id}}}");
                let f = EntryFields { id, at: &at, actor_id: Some(7), action: "regrade", subject: "attempt:1", detail: &detail };
                let hash = entry_hash(&prev, &f);
                let e = StoredEntry { id, at: at.clone(), actor_id: Some(7), action: "regrade".into(), subject: "attempt:1".into(), detail, prev_hash: prev.clone(), hash: hash.clone() };
                prev = hash;
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn an_altered_entry_is_named() {
        let mut c = chain(5);
        c[2].detail = "{\"score\":100}".into();
        assert_eq!(verify(&c).unwrap_err().id, 3);
        let mut c = chain(5);
        c[3].actor_id = None;
        assert_eq!(verify(&c).unwrap_err().id, 4);
    }

    #[test]
    fn a_removed_or_reordered_entry_is_named() {
        let mut c = chain(5);
        c.remove(1);
        let b = verify(&c).unwrap_err();
        assert_eq!(b.id, 3);
        assert!(b.reason.contains("removed"));
        let mut c = chain(3);
        c.swap(0, 1);
        assert_eq!(verify(&c).unwrap_err().id, 2);
    }

    #[test]
    fn rehashing_an_altered_entry_still_breaks_the_next() {
        let mut c = chain(4);
        c[1].detail = "{\"score\":99}".into();
        let f = EntryFields { id: 2, at: &c[1].at, actor_id: c[1].actor_id, action: &c[1].action, subject: &c[1].subject, detail: &c[1].detail };
        c[1].hash = entry_hash(&c[1].prev_hash, &f);
        assert_eq!(verify(&c).unwrap_err().id, 3);
    }
}
