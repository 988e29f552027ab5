//! The tamper-evident audit log: entries are hash-chained, each hash covering the previous
//! entry's hash and every field of its own, so altering, deleting or reordering any stored entry
//! breaks the chain from that entry on.

use sha2::{Digest, Sha256};

use crate::domain::ids::{AuditId, UserId};

/// The hash the first entry chains from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of an entry that its hash covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryFields<'a> {
    pub id: AuditId,
    /// RFC 3339, UTC, to the microsecond: the same text on every backend.
    pub at: &'a str,
    pub actor_id: Option<UserId>,
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
    pub id: AuditId,
    pub at: String,
    pub actor_id: Option<UserId>,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The first entry where the chain breaks, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Break {
    pub id: AuditId,
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
            return Err(Break {
                id: e.id,
                reason: "its previous-hash does not match the entry before it (an entry was removed or reordered)".into(),
            });
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

/// The newest entry of the log: its number and hash. An empty log's head is entry 0 with the
/// genesis hash. Published outside the database (HR feed, daily digest, signed checkpoints) so
/// that deleting the newest entries, which leaves a shorter chain that still verifies, is seen.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Head {
    pub entry: AuditId,
    pub hash: String,
}

impl Head {
    pub fn empty() -> Head {
        Head { entry: AuditId(0), hash: GENESIS.to_string() }
    }

    /// `N:HASH`, as a published head is written down (e.g. from the digest e-mail).
    pub fn parse(s: &str) -> Option<Head> {
        let (n, h) = s.trim().split_once(':')?;
        let entry = AuditId(n.trim().parse().ok().filter(|n| *n >= 0)?);
        let hash = h.trim().to_ascii_lowercase();
        (hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit())).then_some(Head { entry, hash })
    }
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.entry, self.hash)
    }
}

/// Checks the log against a head published earlier: the log must still reach that entry, and
/// that entry must still have that hash (with the chain verified, it then holds everything up
/// to it unchanged). `hash_at_entry` is the log's hash at `published.entry`, if it has one.
pub fn check_against(published: &Head, log_head: &Head, hash_at_entry: Option<&str>) -> Result<(), String> {
    if published.entry == AuditId(0) {
        return Ok(());
    }
    if log_head.entry < published.entry {
        return Err(format!(
            "the log ends at entry {} but entry {} was published: {} newest entr{} deleted",
            log_head.entry,
            published.entry,
            published.entry.0 - log_head.entry.0,
            if published.entry.0 - log_head.entry.0 == 1 { "y was" } else { "ies were" }
        ));
    }
    match hash_at_entry {
        None => Err(format!("entry {} is missing from the log", published.entry)),
        Some(h) if !h.eq_ignore_ascii_case(&published.hash) => Err(format!(
            "entry {} has hash {h}, but {} was published: the log was rewritten at or before that entry",
            published.entry, published.hash
        )),
        Some(_) => Ok(()),
    }
}

type HmacSha256 = hmac::Hmac<Sha256>;

/// The key that signs checkpoints, derived from the server's secret key (so the secret itself
/// signs nothing, and a checkpoint key cannot be turned back into the cookie key).
pub fn checkpoint_key(server_secret: &str) -> [u8; 32] {
    use hmac::Mac;
    let mut mac = HmacSha256::new_from_slice(server_secret.trim().as_bytes()).expect("HMAC takes any key length");
    mac.update(b"lawcert audit checkpoint key v1");
    mac.finalize().into_bytes().into()
}

/// The format name written in every checkpoint file.
pub const CHECKPOINT_FORMAT: &str = "lawcert-audit-checkpoint/1";

/// A signed record of the log's head at a moment, kept outside the database (exported from
/// `lawcert audit checkpoint` or the admin page) and checked by `audit verify --against`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub format: String,
    pub entry: AuditId,
    pub hash: String,
    /// When it was taken, RFC 3339 UTC.
    pub taken_at: String,
    /// HMAC-SHA256 of the fields above under `checkpoint_key`, hex.
    pub signature: String,
}

fn signed_text(entry: AuditId, hash: &str, taken_at: &str) -> String {
    format!("{CHECKPOINT_FORMAT}\nentry={entry}\nhash={hash}\ntaken_at={taken_at}\n")
}

impl Checkpoint {
    pub fn sign(head: &Head, taken_at: &str, key: &[u8; 32]) -> Checkpoint {
        use hmac::Mac;
        let mut mac = HmacSha256::new_from_slice(key).expect("key");
        mac.update(signed_text(head.entry, &head.hash, taken_at).as_bytes());
        Checkpoint {
            format: CHECKPOINT_FORMAT.into(),
            entry: head.entry,
            hash: head.hash.clone(),
            taken_at: taken_at.into(),
            signature: hex::encode(mac.finalize().into_bytes()),
        }
    }

    pub fn head(&self) -> Head {
        Head { entry: self.entry, hash: self.hash.clone() }
    }

    /// The file's text (JSON).
    pub fn to_file(&self) -> String {
        serde_json::to_string_pretty(self).expect("json") + "\n"
    }

    /// Reads a checkpoint file; says what is wrong with one that is not.
    pub fn parse(text: &str) -> Result<Checkpoint, String> {
        let cp: Checkpoint = serde_json::from_str(text).map_err(|e| format!("not a lawcert audit checkpoint ({e})"))?;
        if cp.format != CHECKPOINT_FORMAT {
            return Err(format!("not a lawcert audit checkpoint: format {:?}, expected {CHECKPOINT_FORMAT:?}", cp.format));
        }
        if cp.entry.0 < 0 || Head::parse(&format!("{}:{}", cp.entry, cp.hash)).is_none() {
            return Err("not a lawcert audit checkpoint: the entry or hash is malformed".into());
        }
        Ok(cp)
    }

    /// Checks the signature (in constant time). A checkpoint edited after signing, or made up
    /// without the server's key, is refused.
    pub fn check_signature(&self, key: &[u8; 32]) -> Result<(), String> {
        use hmac::Mac;
        let refused =
            || "the checkpoint's signature does not match: it was altered or forged, or signed with another server secret key".to_string();
        let given = hex::decode(self.signature.trim()).map_err(|_| refused())?;
        let mut mac = HmacSha256::new_from_slice(key).expect("key");
        mac.update(signed_text(self.entry, &self.hash, &self.taken_at).as_bytes());
        mac.verify_slice(&given).map_err(|_| refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|i| {
                let id = AuditId(i);
                let at = format!("2026-11-24T08:00:{i:02}.000000Z");
                let detail = format!("{{\"score\":{i}}}");
                let f = EntryFields { id, at: &at, actor_id: Some(UserId(7)), action: "regrade", subject: "attempt:1", detail: &detail };
                let hash = entry_hash(&prev, &f);
                let e = StoredEntry {
                    id,
                    at: at.clone(),
                    actor_id: Some(UserId(7)),
                    action: "regrade".into(),
                    subject: "attempt:1".into(),
                    detail,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
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
        assert_eq!(verify(&c).unwrap_err().id, AuditId(3));
        let mut c = chain(5);
        c[3].actor_id = None;
        assert_eq!(verify(&c).unwrap_err().id, AuditId(4));
    }

    #[test]
    fn a_removed_or_reordered_entry_is_named() {
        let mut c = chain(5);
        c.remove(1);
        let b = verify(&c).unwrap_err();
        assert_eq!(b.id, AuditId(3));
        assert!(b.reason.contains("removed"));
        let mut c = chain(3);
        c.swap(0, 1);
        assert_eq!(verify(&c).unwrap_err().id, AuditId(2));
    }

    #[test]
    fn rehashing_an_altered_entry_still_breaks_the_next() {
        let mut c = chain(4);
        c[1].detail = "{\"score\":99}".into();
        let f = EntryFields {
            id: AuditId(2),
            at: &c[1].at,
            actor_id: c[1].actor_id,
            action: &c[1].action,
            subject: &c[1].subject,
            detail: &c[1].detail,
        };
        c[1].hash = entry_hash(&c[1].prev_hash, &f);
        assert_eq!(verify(&c).unwrap_err().id, AuditId(3));
    }

    #[test]
    fn a_published_head_finds_a_deleted_tail_that_the_chain_alone_does_not() {
        let c = chain(6);
        let published = Head { entry: AuditId(6), hash: c[5].hash.clone() };
        let head_of = |c: &[StoredEntry]| c.last().map(|e| Head { entry: e.id, hash: e.hash.clone() }).unwrap_or_else(Head::empty);
        assert_eq!(check_against(&published, &head_of(&c), Some(&c[5].hash)), Ok(()));
        // the two newest entries deleted: the rest still verifies …
        let cut = &c[..4];
        assert_eq!(verify(cut), Ok(4));
        // … but not against the head published before
        let err = check_against(&published, &head_of(cut), None).unwrap_err();
        assert!(err.contains("ends at entry 4") && err.contains("2 newest entries were deleted"), "{err}");
        // deleted and then grown again past the published number: the hash there differs
        let mut regrown = chain(4);
        let mut prev = regrown[3].hash.clone();
        for n in 5..=7 {
            let id = AuditId(n);
            let at = format!("2026-11-25T08:00:{n:02}.000000Z");
            let f = EntryFields { id, at: &at, actor_id: None, action: "other", subject: "x", detail: "{}" };
            let hash = entry_hash(&prev, &f);
            regrown.push(StoredEntry {
                id,
                at,
                actor_id: None,
                action: "other".into(),
                subject: "x".into(),
                detail: "{}".into(),
                prev_hash: prev.clone(),
                hash: hash.clone(),
            });
            prev = hash;
        }
        assert_eq!(verify(&regrown), Ok(7));
        let err = check_against(&published, &head_of(&regrown), Some(&regrown[5].hash)).unwrap_err();
        assert!(err.contains("rewritten"), "{err}");
        // an empty log's head is the genesis, which every log holds
        assert_eq!(check_against(&Head::empty(), &Head::empty(), None), Ok(()));
    }

    #[test]
    fn heads_are_written_as_number_and_hash() {
        let h = Head { entry: AuditId(12), hash: "ab".repeat(32) };
        assert_eq!(Head::parse(&h.to_string()), Some(h.clone()));
        assert_eq!(Head::parse(&format!(" 12:{} ", "AB".repeat(32))), Some(h));
        assert_eq!(Head::parse("12:abc"), None);
        assert_eq!(Head::parse(&format!("-1:{}", "ab".repeat(32))), None);
        assert_eq!(Head::parse("checkpoint.json"), None);
    }

    #[test]
    fn a_checkpoint_is_signed_and_a_forged_one_refused() {
        let key = checkpoint_key("9f3c2a1b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8");
        assert_ne!(key, checkpoint_key("another secret"), "the key depends on the secret");
        let c = chain(3);
        let cp = Checkpoint::sign(&Head { entry: AuditId(3), hash: c[2].hash.clone() }, "2026-11-24T08:00:00.000000Z", &key);
        let read = Checkpoint::parse(&cp.to_file()).unwrap();
        assert_eq!(read, cp);
        assert_eq!(read.check_signature(&key), Ok(()));
        // a smaller entry number (to hide a deleted tail), another hash or time: refused
        for forged in [
            Checkpoint { entry: AuditId(2), ..cp.clone() },
            Checkpoint { hash: c[1].hash.clone(), ..cp.clone() },
            Checkpoint { taken_at: "2027-01-01T00:00:00.000000Z".into(), ..cp.clone() },
            Checkpoint { signature: "00".repeat(32), ..cp.clone() },
            Checkpoint { signature: "zz".into(), ..cp.clone() },
        ] {
            assert!(forged.check_signature(&key).unwrap_err().contains("does not match"));
        }
        // signed with another server's key
        assert!(cp.check_signature(&checkpoint_key("another secret")).is_err());
        assert!(Checkpoint::parse("{}").unwrap_err().contains("not a lawcert audit checkpoint"));
        let other = cp.to_file().replace(CHECKPOINT_FORMAT, "something-else/1");
        assert!(Checkpoint::parse(&other).unwrap_err().contains("format"));
    }
}
