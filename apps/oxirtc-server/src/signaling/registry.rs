//! Rooms behind a trait: [`RoomRegistry`] holds who is in which room. [`MemoryRegistry`] keeps it in
//! this process; a later backend (Redis) can share rooms between server nodes.

use std::collections::HashMap;
use std::sync::Mutex;

use super::protocol::{ErrorCode, PeerInfo};

/// Why a room operation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoomError {
    /// No room has this code.
    #[error("no room `{0}`: the code is wrong or everyone in it has left")]
    UnknownRoom(String),
    /// The room has `max` members already.
    #[error("room `{room}` is full ({max} peers)")]
    RoomFull {
        /// The room.
        room: String,
        /// The limit.
        max: usize,
    },
    /// A room with this code exists already (retry with another code).
    #[error("room `{0}` exists already")]
    Exists(String),
    /// The registry holds its maximum number of rooms.
    #[error("the server holds its maximum of {0} rooms")]
    TooManyRooms(usize),
}

impl RoomError {
    /// The protocol error code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            RoomError::UnknownRoom(_) => ErrorCode::UnknownRoom,
            RoomError::RoomFull { .. } => ErrorCode::RoomFull,
            RoomError::Exists(_) | RoomError::TooManyRooms(_) => ErrorCode::ServerBusy,
        }
    }
}

/// Room membership. Implementations must be cheap to call from many tasks at once.
pub trait RoomRegistry: Send + Sync + 'static {
    /// Makes room `code` with `first` as its only member; `Exists` if the code is taken.
    fn create(&self, code: &str, first: PeerInfo) -> Result<(), RoomError>;
    /// Adds `peer` to room `code` (at most `max_peers` members); returns the members already there.
    fn join(&self, code: &str, peer: PeerInfo, max_peers: usize) -> Result<Vec<PeerInfo>, RoomError>;
    /// Removes member `id` from room `code`; returns the members left. An empty room is deleted.
    fn leave(&self, code: &str, id: &str) -> Vec<PeerInfo>;
    /// The members of room `code`, if it exists.
    fn members(&self, code: &str) -> Option<Vec<PeerInfo>>;
    /// Number of rooms.
    fn room_count(&self) -> usize;
}

/// Rooms in this process's memory.
#[derive(Debug)]
pub struct MemoryRegistry {
    rooms: Mutex<HashMap<String, Vec<PeerInfo>>>,
    max_rooms: usize,
}

impl MemoryRegistry {
    /// An empty registry holding at most `max_rooms` rooms.
    pub fn new(max_rooms: usize) -> Self {
        MemoryRegistry {
            rooms: Mutex::new(HashMap::new()),
            max_rooms,
        }
    }

    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<PeerInfo>>> {
        // A panic while holding this lock leaves a consistent map (every update is one insert or
        // remove), so a poisoned lock is safe to keep using.
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl RoomRegistry for MemoryRegistry {
    fn create(&self, code: &str, first: PeerInfo) -> Result<(), RoomError> {
        let mut rooms = self.rooms();
        if rooms.contains_key(code) {
            return Err(RoomError::Exists(code.to_owned()));
        }
        if rooms.len() >= self.max_rooms {
            return Err(RoomError::TooManyRooms(self.max_rooms));
        }
        rooms.insert(code.to_owned(), vec![first]);
        Ok(())
    }

    fn join(&self, code: &str, peer: PeerInfo, max_peers: usize) -> Result<Vec<PeerInfo>, RoomError> {
        let mut rooms = self.rooms();
        let members = rooms
            .get_mut(code)
            .ok_or_else(|| RoomError::UnknownRoom(code.to_owned()))?;
        if members.len() >= max_peers {
            return Err(RoomError::RoomFull {
                room: code.to_owned(),
                max: max_peers,
            });
        }
        let before = members.clone();
        members.push(peer);
        Ok(before)
    }

    fn leave(&self, code: &str, id: &str) -> Vec<PeerInfo> {
        let mut rooms = self.rooms();
        let Some(members) = rooms.get_mut(code) else {
            return Vec::new();
        };
        members.retain(|p| p.id != id);
        let left = members.clone();
        if left.is_empty() {
            rooms.remove(code);
        }
        left
    }

    fn members(&self, code: &str) -> Option<Vec<PeerInfo>> {
        self.rooms().get(code).cloned()
    }

    fn room_count(&self) -> usize {
        self.rooms().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: &str) -> PeerInfo {
        PeerInfo {
            id: id.into(),
            name: format!("name {id}"),
            kind: "cli".into(),
        }
    }

    #[test]
    fn rooms_fill_up_and_vanish_when_empty() {
        let r = MemoryRegistry::new(2);
        r.create("1-a-b", peer("p1")).unwrap();
        assert_eq!(
            r.create("1-a-b", peer("p9")),
            Err(RoomError::Exists("1-a-b".into()))
        );
        assert_eq!(r.join("1-a-b", peer("p2"), 2).unwrap(), vec![peer("p1")]);
        assert!(matches!(
            r.join("1-a-b", peer("p3"), 2),
            Err(RoomError::RoomFull { max: 2, .. })
        ));
        assert!(matches!(
            r.join("9-x-y", peer("p3"), 2),
            Err(RoomError::UnknownRoom(_))
        ));
        r.create("2-a-b", peer("p4")).unwrap();
        assert_eq!(r.create("3-a-b", peer("p5")), Err(RoomError::TooManyRooms(2)));
        assert_eq!(r.leave("1-a-b", "p1"), vec![peer("p2")]);
        assert_eq!(r.leave("1-a-b", "p2"), vec![]);
        assert_eq!(r.members("1-a-b"), None);
        assert_eq!(r.room_count(), 1);
    }
}
