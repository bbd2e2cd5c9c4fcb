//! Typed header extension values: each parses an element's data and writes it back into a small
//! array, so building a packet's extensions allocates nothing.

use crate::RtpError;

fn exact<const N: usize>(what: &'static str, data: &[u8]) -> Result<[u8; N], RtpError> {
    data.try_into().map_err(|_| {
        if data.len() < N {
            RtpError::Truncated {
                what,
                needed: N,
                available: data.len(),
            }
        } else {
            RtpError::TrailingBytes {
                what,
                count: data.len() - N,
            }
        }
    })
}

/// A text identifier carried as an SDES-style extension: mid (RFC 8843 §15.2), rid (RFC 8852
/// §3.1) or repaired rid (RFC 8852 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesText<'a>(pub &'a str);

impl<'a> SdesText<'a> {
    /// A mid: an RFC 5888 identification tag, i.e. a non-empty token of visible ASCII.
    pub fn parse_mid(data: &'a [u8]) -> Result<Self, RtpError> {
        if data.is_empty() || !data.iter().all(|b| (0x21..=0x7e).contains(b)) {
            return Err(RtpError::Malformed {
                what: "mid header extension",
                reason: "not a non-empty run of visible ASCII (RFC 8843 §15.2, RFC 5888 token)",
            });
        }
        Self::text(data)
    }

    /// A rid or repaired rid: `1*(ALPHA / DIGIT / "-" / "_")` (RFC 8851 §10).
    pub fn parse_rid(data: &'a [u8]) -> Result<Self, RtpError> {
        if data.is_empty()
            || !data
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        {
            return Err(RtpError::Malformed {
                what: "rid header extension",
                reason: "not 1*(ALPHA / DIGIT / \"-\" / \"_\") (RFC 8851 §10)",
            });
        }
        Self::text(data)
    }

    fn text(data: &'a [u8]) -> Result<Self, RtpError> {
        // Checked ASCII above, so this is valid UTF-8; map the error anyway rather than unwrap.
        std::str::from_utf8(data)
            .map(SdesText)
            .map_err(|_| RtpError::Malformed {
                what: "SDES text header extension",
                reason: "not UTF-8",
            })
    }

    /// The element data.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0.as_bytes()
    }
}

/// abs-send-time: 24-bit 6.18 fixed point seconds, the sender's clock modulo 64 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbsSendTime(u32);

impl AbsSendTime {
    /// From the raw 24-bit value; higher bits are dropped.
    pub fn from_raw(raw: u32) -> Self {
        AbsSendTime(raw & 0x00ff_ffff)
    }

    /// From a 64-bit NTP timestamp (32.32): bits 14 to 37, i.e. 6 bits of seconds, 18 of fraction.
    pub fn from_ntp(ntp: u64) -> Self {
        Self::from_raw((ntp >> 14) as u32)
    }

    /// From a time in microseconds since any epoch (rounded down to 1/262144 s).
    pub fn from_micros(us: u64) -> Self {
        let secs = us / 1_000_000;
        let frac = ((us % 1_000_000) << 18) / 1_000_000;
        Self::from_raw(((secs << 18) | frac) as u32)
    }

    /// The raw 24-bit value.
    pub fn raw(self) -> u32 {
        self.0
    }

    /// The time modulo 64 s, in microseconds (rounded down).
    pub fn micros(self) -> u64 {
        (u64::from(self.0) * 1_000_000) >> 18
    }

    /// Parses the 3-byte element.
    pub fn parse(data: &[u8]) -> Result<Self, RtpError> {
        let b: [u8; 3] = exact("abs-send-time header extension", data)?;
        Ok(AbsSendTime(u32::from_be_bytes([0, b[0], b[1], b[2]])))
    }

    /// The 3-byte element.
    pub fn to_bytes(self) -> [u8; 3] {
        let b = self.0.to_be_bytes();
        [b[1], b[2], b[3]]
    }
}

/// The transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportCcSeq(pub u16);

impl TransportCcSeq {
    /// Parses the 2-byte element.
    pub fn parse(data: &[u8]) -> Result<Self, RtpError> {
        let b: [u8; 2] = exact("transport-wide-cc header extension", data)?;
        Ok(TransportCcSeq(u16::from_be_bytes(b)))
    }

    /// The 2-byte element.
    pub fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
}

/// Client-to-mixer audio level (RFC 6464 §3): voice activity and level in -dBov.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioLevel {
    /// The V bit: the sender believes the packet holds voice.
    pub voice: bool,
    /// The level as 0 to 127 -dBov (0 is loudest, 127 silence).
    pub level: u8,
}

impl AudioLevel {
    /// Parses the 1-byte element: V(1) level(7).
    pub fn parse(data: &[u8]) -> Result<Self, RtpError> {
        let [b]: [u8; 1] = exact("audio level header extension", data)?;
        Ok(AudioLevel {
            voice: b & 0x80 != 0,
            level: b & 0x7f,
        })
    }

    /// The 1-byte element; a level above 127 is an error.
    pub fn to_bytes(self) -> Result<[u8; 1], RtpError> {
        if self.level > 127 {
            return Err(RtpError::OutOfRange {
                what: "audio level",
                value: self.level.into(),
                max: 127,
            });
        }
        Ok([(u8::from(self.voice) << 7) | self.level])
    }
}

/// Coordination of video orientation (3GPP TS 26.114 §7.4.5): `0 0 0 0 C F R1 R0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoOrientation {
    /// C: the back-facing camera (false: front-facing or unknown).
    pub back_camera: bool,
    /// F: the picture is flipped horizontally.
    pub flip: bool,
    /// R1R0: clockwise rotation in units of 90 degrees, 0 to 3.
    pub rotation: u8,
}

impl VideoOrientation {
    /// Parses the 1-byte element; the four high bits are ignored.
    pub fn parse(data: &[u8]) -> Result<Self, RtpError> {
        let [b]: [u8; 1] = exact("video orientation header extension", data)?;
        Ok(VideoOrientation {
            back_camera: b & 0x08 != 0,
            flip: b & 0x04 != 0,
            rotation: b & 0x03,
        })
    }

    /// The rotation in degrees (0, 90, 180 or 270).
    pub fn degrees(self) -> u16 {
        u16::from(self.rotation & 3) * 90
    }

    /// The 1-byte element (rotation taken modulo 4).
    pub fn to_bytes(self) -> [u8; 1] {
        [(u8::from(self.back_camera) << 3) | (u8::from(self.flip) << 2) | (self.rotation & 3)]
    }
}

/// Playout delay limits: 12-bit minimum and maximum, in 10 ms units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlayoutDelay {
    /// Minimum delay, 0 to 4095 (× 10 ms).
    pub min: u16,
    /// Maximum delay, 0 to 4095 (× 10 ms).
    pub max: u16,
}

impl PlayoutDelay {
    /// Parses the 3-byte element: MIN(12) MAX(12).
    pub fn parse(data: &[u8]) -> Result<Self, RtpError> {
        let b: [u8; 3] = exact("playout-delay header extension", data)?;
        Ok(PlayoutDelay {
            min: (u16::from(b[0]) << 4) | u16::from(b[1] >> 4),
            max: (u16::from(b[1] & 0x0f) << 8) | u16::from(b[2]),
        })
    }

    /// The 3-byte element; a limit above 4095 is an error.
    pub fn to_bytes(self) -> Result<[u8; 3], RtpError> {
        for (what, v) in [("playout-delay min", self.min), ("playout-delay max", self.max)] {
            if v > 0x0fff {
                return Err(RtpError::OutOfRange {
                    what,
                    value: v.into(),
                    max: 0x0fff,
                });
            }
        }
        Ok([
            (self.min >> 4) as u8,
            (((self.min & 0x0f) << 4) | (self.max >> 8)) as u8,
            self.max as u8,
        ])
    }
}

/// abs-capture-time: the 64-bit NTP capture time and, optionally, the estimated offset between
/// the capturer's clock and the sender's (signed Q32.32 seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbsCaptureTime {
    /// Capture time as a 64-bit NTP timestamp (32.32).
    pub ntp: u64,
    /// Estimated capture clock offset, Q32.32 seconds.
    pub clock_offset: Option<i64>,
}

impl AbsCaptureTime {
    /// Parses the 8- or 16-byte element.
    pub fn parse(data: &[u8]) -> Result<Self, RtpError> {
        const WHAT: &str = "abs-capture-time header extension";
        let word = |b: &[u8]| u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        match data.len() {
            8 => Ok(AbsCaptureTime {
                ntp: word(data),
                clock_offset: None,
            }),
            16 => Ok(AbsCaptureTime {
                ntp: word(data),
                clock_offset: Some(word(&data[8..]) as i64),
            }),
            n if n < 8 => Err(RtpError::Truncated {
                what: WHAT,
                needed: 8,
                available: n,
            }),
            _ => Err(RtpError::Malformed {
                what: WHAT,
                reason: "length is neither 8 nor 16 bytes",
            }),
        }
    }

    /// Writes the element into `buf` and returns the 8 or 16 bytes written.
    pub fn write(self, buf: &mut [u8; 16]) -> &[u8] {
        buf[..8].copy_from_slice(&self.ntp.to_be_bytes());
        match self.clock_offset {
            Some(off) => {
                buf[8..].copy_from_slice(&off.to_be_bytes());
                &buf[..]
            }
            None => &buf[..8],
        }
    }
}
