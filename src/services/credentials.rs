//! Credentials: argon2id password hashes, random tokens and their stored hashes, and
//! constant-time comparison. Argon2 work runs off the async executor under one permit per core.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 hashing").to_string()
}

/// Verifies against a throwaway hash so that an unknown badge costs the same time as a wrong
/// password (no way to probe which badges exist).
pub fn verify_nobody(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("no such account"));
    let _ = verify_password(password, hash);
}

/// One argon2 computation per core at a time: argon2 is deliberately costly (tens of ms and
/// 19 MiB each), so a sign-in storm queues here instead of starving answer saves of CPU and
/// memory.
pub async fn argon2_permit() -> rocket::tokio::sync::SemaphorePermit<'static> {
    static PERMITS: std::sync::OnceLock<rocket::tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let permits =
        PERMITS.get_or_init(|| rocket::tokio::sync::Semaphore::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)));
    permits.acquire().await.expect("semaphore open")
}

/// Checks a password (or, with no hash, spends the same time) off the async executor.
pub async fn verify_blocking(password: String, hash: Option<String>) -> bool {
    rocket::tokio::task::spawn_blocking(move || match hash {
        Some(h) => verify_password(&password, &h),
        None => {
            verify_nobody(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// Checks a password off the async executor, under an argon2 permit.
pub async fn verify_password_async(password: String, hash: Option<String>) -> bool {
    let _permit = argon2_permit().await;
    verify_blocking(password, hash).await
}

/// Hashes a password off the async executor, under an argon2 permit.
pub async fn hash_password_async(password: String) -> String {
    let _permit = argon2_permit().await;
    rocket::tokio::task::spawn_blocking(move || hash_password(&password)).await.expect("argon2 hashing")
}

/// Checks a password against a stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A fresh random token (256 bits, hex).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Tokens are stored hashed, so a database leak does not leak live sessions.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time comparison for secrets.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
