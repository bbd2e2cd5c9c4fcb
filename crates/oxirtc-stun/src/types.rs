//! Header-level newtypes: transaction ID, class, method and attribute type (RFC 8489 §5, §18).

use oxirtc_crypto::SecureRng;

/// The 96-bit transaction ID of a STUN message (RFC 8489 §5).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TransactionId(pub [u8; 12]);

impl TransactionId {
    /// A fresh, uniformly random transaction ID (RFC 8489 §5: "cryptographically random").
    pub fn random(rng: &mut SecureRng) -> Self {
        let mut id = [0u8; 12];
        rng.fill(&mut id);
        Self(id)
    }
}

/// The class of a STUN message (RFC 8489 §5: bits C1 and C0 of the message type).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Class {
    /// A request (C1 C0 = 0b00).
    Request,
    /// An indication (0b01).
    Indication,
    /// A success response (0b10).
    Success,
    /// An error response (0b11).
    Error,
}

impl Class {
    /// True for success and error responses.
    pub fn is_response(self) -> bool {
        matches!(self, Class::Success | Class::Error)
    }
}

/// A 12-bit STUN method (RFC 8489 §18.2, RFC 8656 §17, RFC 6062 §6.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Method(pub u16);

impl Method {
    /// Binding (RFC 8489 §18.2).
    pub const BINDING: Method = Method(0x001);
    /// Allocate (RFC 8656 §17).
    pub const ALLOCATE: Method = Method(0x003);
    /// Refresh (RFC 8656 §17).
    pub const REFRESH: Method = Method(0x004);
    /// Send (RFC 8656 §17).
    pub const SEND: Method = Method(0x006);
    /// Data (RFC 8656 §17).
    pub const DATA: Method = Method(0x007);
    /// CreatePermission (RFC 8656 §17).
    pub const CREATE_PERMISSION: Method = Method(0x008);
    /// ChannelBind (RFC 8656 §17).
    pub const CHANNEL_BIND: Method = Method(0x009);
    /// Connect (RFC 6062 §6.1).
    pub const CONNECT: Method = Method(0x00A);
    /// ConnectionBind (RFC 6062 §6.1).
    pub const CONNECTION_BIND: Method = Method(0x00B);
    /// ConnectionAttempt (RFC 6062 §6.1).
    pub const CONNECTION_ATTEMPT: Method = Method(0x00C);
}

// RFC 8489 §5: the 14-bit message type interleaves method bits M11..M0 with class bits C1 C0:
//  0                 1
//  2  3  4 5 6 7 8 9 0 1 2 3 4 5
// +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
// |M |M |M|M|M|C|M|M|M|C|M|M|M|M|
// |11|10|9|8|7|1|6|5|4|0|3|2|1|0|
// +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
pub(crate) fn message_type(class: Class, method: Method) -> u16 {
    let m = method.0 & 0x0FFF;
    let (c1, c0) = match class {
        Class::Request => (0, 0),
        Class::Indication => (0, 1),
        Class::Success => (1, 0),
        Class::Error => (1, 1),
    };
    (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | (c0 << 4) | (c1 << 8)
}

pub(crate) fn split_message_type(ty: u16) -> (Class, Method) {
    let class = match ((ty >> 8) & 1, (ty >> 4) & 1) {
        (0, 0) => Class::Request,
        (0, _) => Class::Indication,
        (_, 0) => Class::Success,
        _ => Class::Error,
    };
    let m = (ty & 0x000F) | ((ty >> 1) & 0x0070) | ((ty >> 2) & 0x0F80);
    (class, Method(m))
}

/// A STUN attribute type (RFC 8489 §18.3 registry).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct AttrType(pub u16);

macro_rules! attr_types {
    ($($(#[$doc:meta])* $name:ident = $val:expr;)*) => {
        impl AttrType {
            $($(#[$doc])* pub const $name: AttrType = AttrType($val);)*

            /// The registry name, e.g. `"XOR-MAPPED-ADDRESS"`, or `None` for a type this codec does not know.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $(AttrType::$name => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            /// True for the types this codec decodes (everything with a constant here).
            pub fn is_known(self) -> bool {
                self.name().is_some()
            }
        }
    };
}

attr_types! {
    /// MAPPED-ADDRESS (RFC 8489 §14.1).
    MAPPED_ADDRESS = 0x0001;
    /// CHANGE-REQUEST (RFC 5780 §7.2).
    CHANGE_REQUEST = 0x0003;
    /// USERNAME (RFC 8489 §14.3).
    USERNAME = 0x0006;
    /// MESSAGE-INTEGRITY (RFC 8489 §14.5).
    MESSAGE_INTEGRITY = 0x0008;
    /// ERROR-CODE (RFC 8489 §14.8).
    ERROR_CODE = 0x0009;
    /// UNKNOWN-ATTRIBUTES (RFC 8489 §14.13).
    UNKNOWN_ATTRIBUTES = 0x000A;
    /// CHANNEL-NUMBER (RFC 8656 §18.1).
    CHANNEL_NUMBER = 0x000C;
    /// LIFETIME (RFC 8656 §18.2).
    LIFETIME = 0x000D;
    /// XOR-PEER-ADDRESS (RFC 8656 §18.3).
    XOR_PEER_ADDRESS = 0x0012;
    /// DATA (RFC 8656 §18.4).
    DATA = 0x0013;
    /// REALM (RFC 8489 §14.9).
    REALM = 0x0014;
    /// NONCE (RFC 8489 §14.10).
    NONCE = 0x0015;
    /// XOR-RELAYED-ADDRESS (RFC 8656 §18.5).
    XOR_RELAYED_ADDRESS = 0x0016;
    /// REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.6).
    REQUESTED_ADDRESS_FAMILY = 0x0017;
    /// EVEN-PORT (RFC 8656 §18.7).
    EVEN_PORT = 0x0018;
    /// REQUESTED-TRANSPORT (RFC 8656 §18.8).
    REQUESTED_TRANSPORT = 0x0019;
    /// DONT-FRAGMENT (RFC 8656 §18.9).
    DONT_FRAGMENT = 0x001A;
    /// MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6).
    MESSAGE_INTEGRITY_SHA256 = 0x001C;
    /// PASSWORD-ALGORITHM (RFC 8489 §14.12).
    PASSWORD_ALGORITHM = 0x001D;
    /// USERHASH (RFC 8489 §14.4).
    USERHASH = 0x001E;
    /// XOR-MAPPED-ADDRESS (RFC 8489 §14.2).
    XOR_MAPPED_ADDRESS = 0x0020;
    /// RESERVATION-TOKEN (RFC 8656 §18.10).
    RESERVATION_TOKEN = 0x0022;
    /// PRIORITY (RFC 8445 §7.1.1).
    PRIORITY = 0x0024;
    /// USE-CANDIDATE (RFC 8445 §7.1.2).
    USE_CANDIDATE = 0x0025;
    /// PADDING (RFC 5780 §7.6).
    PADDING = 0x0026;
    /// RESPONSE-PORT (RFC 5780 §7.5).
    RESPONSE_PORT = 0x0027;
    /// CONNECTION-ID (RFC 6062 §6.2.1).
    CONNECTION_ID = 0x002A;
    /// ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.11).
    ADDITIONAL_ADDRESS_FAMILY = 0x8000;
    /// ADDRESS-ERROR-CODE (RFC 8656 §18.12).
    ADDRESS_ERROR_CODE = 0x8001;
    /// PASSWORD-ALGORITHMS (RFC 8489 §14.11).
    PASSWORD_ALGORITHMS = 0x8002;
    /// ALTERNATE-DOMAIN (RFC 8489 §14.16).
    ALTERNATE_DOMAIN = 0x8003;
    /// ICMP (RFC 8656 §18.13).
    ICMP = 0x8004;
    /// SOFTWARE (RFC 8489 §14.14).
    SOFTWARE = 0x8022;
    /// ALTERNATE-SERVER (RFC 8489 §14.15).
    ALTERNATE_SERVER = 0x8023;
    /// FINGERPRINT (RFC 8489 §14.7).
    FINGERPRINT = 0x8028;
    /// ICE-CONTROLLED (RFC 8445 §7.1.3).
    ICE_CONTROLLED = 0x8029;
    /// ICE-CONTROLLING (RFC 8445 §7.1.3).
    ICE_CONTROLLING = 0x802A;
    /// RESPONSE-ORIGIN (RFC 5780 §7.3).
    RESPONSE_ORIGIN = 0x802B;
    /// OTHER-ADDRESS (RFC 5780 §7.4).
    OTHER_ADDRESS = 0x802C;
}

/// The registry name with hyphens (`XOR-MAPPED-ADDRESS`), or the hex code for unknown types.
impl std::fmt::Display for AttrType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(name) => name
                .chars()
                .map(|c| if c == '_' { '-' } else { c })
                .try_for_each(|c| std::fmt::Write::write_char(f, c)),
            None => write!(f, "{:#06x}", self.0),
        }
    }
}

impl AttrType {
    /// RFC 8489 §14: types 0x0000-0x7FFF are comprehension-required; an agent that does not understand
    /// one must reject the message (420 for requests).
    pub fn is_comprehension_required(self) -> bool {
        self.0 < 0x8000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_type_examples() {
        // RFC 8489 §5: Binding request 0x0001, success 0x0101, error 0x0111; §6.3: indication 0x0011.
        assert_eq!(message_type(Class::Request, Method::BINDING), 0x0001);
        assert_eq!(message_type(Class::Success, Method::BINDING), 0x0101);
        assert_eq!(message_type(Class::Error, Method::BINDING), 0x0111);
        assert_eq!(message_type(Class::Indication, Method::SEND), 0x0016);
        assert_eq!(message_type(Class::Indication, Method::DATA), 0x0017);
    }

    #[test]
    fn message_type_round_trips_every_method_and_class() {
        for m in 0..0x1000u16 {
            for class in [Class::Request, Class::Indication, Class::Success, Class::Error] {
                let ty = message_type(class, Method(m));
                assert_eq!(ty & 0xC000, 0);
                assert_eq!(split_message_type(ty), (class, Method(m)));
            }
        }
    }

    #[test]
    fn comprehension_ranges() {
        assert!(AttrType::XOR_MAPPED_ADDRESS.is_comprehension_required());
        assert!(!AttrType::SOFTWARE.is_comprehension_required());
        assert!(!AttrType::ADDITIONAL_ADDRESS_FAMILY.is_comprehension_required());
        assert_eq!(AttrType::ICE_CONTROLLING.name(), Some("ICE_CONTROLLING"));
        assert!(!AttrType(0x7FFF).is_known());
        assert_eq!(AttrType::XOR_MAPPED_ADDRESS.to_string(), "XOR-MAPPED-ADDRESS");
        assert_eq!(AttrType(0x7f01).to_string(), "0x7f01");
    }
}
