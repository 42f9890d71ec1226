//! Equivocation (PROTOCOL.md §5.8): two different headers at one height signed for the same
//! stake output. A pure function of the two signed headers.

use serde::{Deserialize, Serialize};
use tfchain_types::{BlockHeader, Signature};

/// A header with its creator's signature: self-contained evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHeader {
    pub header: BlockHeader,
    pub signature: Signature,
}

impl SignedHeader {
    /// Whether the signature verifies against the header's creator.
    pub fn is_signed(&self) -> bool {
        self.header
            .creator
            .verify(self.header.id().as_bytes(), &self.signature)
    }
}

/// Whether `a` and `b` prove that the creator of one stake output signed two blocks at the
/// same height: same height and stake output, same creator, different headers, both
/// signatures valid.
pub fn is_equivocation(a: &SignedHeader, b: &SignedHeader) -> bool {
    a.header.height == b.header.height
        && a.header.stake_output == b.header.stake_output
        && a.header.creator == b.header.creator
        && a.header.id() != b.header.id()
        && a.is_signed()
        && b.is_signed()
}
