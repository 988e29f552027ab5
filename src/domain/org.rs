//! The organisation: roles and the unit tree.

use serde::{Deserialize, Serialize};

use crate::domain::ids::UnitId;

/// What a person may do on the platform. One account may hold several roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Officer,
    Trainer,
    Leader,
    Hr,
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Officer, Role::Trainer, Role::Leader, Role::Hr, Role::Admin];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Trainer => "trainer",
            Role::Leader => "leader",
            Role::Hr => "hr",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The path from a unit up to the root, given each unit's parent.
pub fn unit_path(unit: UnitId, parent_of: impl Fn(UnitId) -> Option<UnitId>) -> Vec<UnitId> {
    let mut path = vec![unit];
    let mut cur = unit;
    while let Some(p) = parent_of(cur) {
        if path.contains(&p) {
            break; // a cycle in bad data must not hang a request
        }
        path.push(p);
        cur = p;
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_path_walks_to_root_and_survives_cycles() {
        let parents = |u: UnitId| match u.0 {
            3 => Some(UnitId(2)),
            2 => Some(UnitId(1)),
            _ => None,
        };
        assert_eq!(unit_path(UnitId(3), parents), vec![UnitId(3), UnitId(2), UnitId(1)]);
        let cyclic = |u: UnitId| if u == UnitId(1) { Some(UnitId(2)) } else { Some(UnitId(1)) };
        assert_eq!(unit_path(UnitId(1), cyclic), vec![UnitId(1), UnitId(2)]);
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
