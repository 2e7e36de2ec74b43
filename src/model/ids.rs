//! Identifiers: random-looking GUIDs from a seeded counter, and the derived ids the real service
//! gives role assignments and instances.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use uuid::Uuid;

/// The `n`-th GUID of the stream for `seed`. A pure function of (seed, n), so the store only keeps
/// a counter, and the same seed and the same commands always give the same ids.
pub fn nth_guid(seed: u64, n: u64) -> String {
    let bytes = STREAM.with(|stream| stream.borrow_mut().bytes(seed, n));
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// GUIDs made from one piece of the stream.
const GUIDS_PER_PIECE: u64 = 16;

thread_local! {
    /// The piece of the stream the last GUID came from. A store takes its ids one after the
    /// other, and ChaCha makes four blocks (sixteen GUIDs' worth) each time it is asked for one
    /// GUID at a new place: seeding the generator and making them was 2,000 instructions an id.
    static STREAM: std::cell::RefCell<Piece> = const {
        std::cell::RefCell::new(Piece { seed: 0, first: u64::MAX, bytes: [0; 256] })
    };
}

/// Sixteen GUIDs' bytes of the stream for `seed`, from the `first`-th on.
struct Piece {
    seed: u64,
    first: u64,
    bytes: [u8; 16 * GUIDS_PER_PIECE as usize],
}

impl Piece {
    /// The bytes of the `n`-th GUID of `seed`'s stream: 16 bytes from byte `16 n` on (each GUID
    /// takes four 32-bit words).
    fn bytes(&mut self, seed: u64, n: u64) -> [u8; 16] {
        let first = n - n % GUIDS_PER_PIECE;
        if (self.seed, self.first) != (seed, first) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_word_pos(u128::from(first) * 4);
            rng.fill_bytes(&mut self.bytes);
            (self.seed, self.first) = (seed, first);
        }
        let at = usize::try_from(n % GUIDS_PER_PIECE).unwrap_or(0) * 16;
        let mut out = [0u8; 16];
        out.copy_from_slice(&self.bytes[at..at + 16]);
        out
    }
}

/// Whether `s` is a GUID in any of the usual spellings.
/// A GUID derived from `text` alone (FNV-1a, then the seeded stream's shape): for ids the service
/// derives from what they name rather than mints, such as the policy of an Azure (scope, role)
/// pair that nobody has changed yet.
pub fn derived_guid(text: &str) -> String {
    let hash =
        text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    nth_guid(hash, 0)
}

pub fn is_guid(s: &str) -> bool {
    Uuid::parse_str(s).is_ok()
}

/// The bytes of a GUID in .NET's order (first three fields little-endian), as the service encodes them.
fn dotnet_bytes(guid: &str) -> Option<[u8; 16]> {
    Uuid::parse_str(guid).ok().map(|u| u.to_bytes_le())
}

/// The id of a `unifiedRoleAssignment` (and of its instance): base64url of the role definition and
/// principal GUIDs (plus the scope object's GUID for scoped assignments), then `-1` (reference §3.10).
/// Eligibility instances add `-e`.
pub fn role_assignment_id(
    role_definition_id: &str,
    principal_id: &str,
    scope: Option<&str>,
    eligibility: bool,
) -> String {
    let mut bytes = Vec::with_capacity(48);
    for guid in [role_definition_id, principal_id] {
        match dotnet_bytes(guid) {
            Some(b) => bytes.extend_from_slice(&b),
            None => bytes.extend_from_slice(guid.as_bytes()),
        }
    }
    if let Some(object) = scope.and_then(scope_object_id) {
        if let Some(b) = dotnet_bytes(object) {
            bytes.extend_from_slice(&b);
        }
    }
    let mut id = URL_SAFE_NO_PAD.encode(bytes);
    id.push_str(if eligibility { "-1-e" } else { "-1" });
    id
}

/// The object GUID at the end of a directory scope (`/administrativeUnits/{id}` or `/{id}`).
pub fn scope_object_id(scope: &str) -> Option<&str> {
    let last = scope.trim_end_matches('/').rsplit('/').next()?;
    is_guid(last).then_some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stream's GUID as the generator gives it, made afresh each time.
    fn made_alone(seed: u64, n: u64) -> String {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_word_pos(u128::from(n) * 4);
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
    }

    proptest::proptest! {
        /// The generator for a GUID taken from the wrong piece of the stream: whatever order
        /// ids are asked in, of whichever seeds, each is the one made alone.
        #[test]
        fn each_guid_is_the_stream_s_whatever_was_asked_before(
            asked in proptest::collection::vec((0..3u64, 0..80u64), 1..64),
            far in proptest::num::u64::ANY,
        ) {
            for (seed, n) in asked.into_iter().chain([(1, far)]) {
                proptest::prop_assert_eq!(nth_guid(seed, n), made_alone(seed, n), "seed {} n {}", seed, n);
            }
        }
    }

    #[test]
    fn role_assignment_ids_match_the_documented_encoding() {
        // Reference §3.10: Global Administrator + principal 6be4b305-... decodes from this id.
        let id = "lAPpYvVpN0KRkAEhdxReEAWz5Gtet_xOv8wxvTtTpfg-1";
        let bytes = URL_SAFE_NO_PAD.decode(id.trim_end_matches("-1")).unwrap();
        let role = Uuid::from_bytes_le(bytes[..16].try_into().unwrap());
        let principal = Uuid::from_bytes_le(bytes[16..].try_into().unwrap());
        assert_eq!(role.to_string(), "62e90394-69f5-4237-9190-012177145e10");
        assert_eq!(role_assignment_id(&role.to_string(), &principal.to_string(), Some("/"), false), id);
        assert!(role_assignment_id(&role.to_string(), &principal.to_string(), None, true).ends_with("-1-e"));
    }

    #[test]
    fn scoped_assignments_get_a_third_guid() {
        let au = "/administrativeUnits/4d7b2c1e-5a0f-4f59-9f4b-9a3f0c2d7e11";
        let role = "62e90394-69f5-4237-9190-012177145e10";
        let p = "071cc716-8147-4397-a5ba-b2105951cc0b";
        assert_ne!(
            role_assignment_id(role, p, Some(au), false),
            role_assignment_id(role, p, Some("/"), false)
        );
    }

    #[test]
    fn guid_stream_is_deterministic_and_distinct() {
        assert_eq!(nth_guid(7, 3), nth_guid(7, 3));
        assert_ne!(nth_guid(7, 3), nth_guid(7, 4));
        assert_ne!(nth_guid(7, 3), nth_guid(8, 3));
        assert!(is_guid(&nth_guid(1, 0)));
    }
}
