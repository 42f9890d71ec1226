//! The one merkle function (PROTOCOL.md §3, §5.7): leaf = `H(0x00 ‖ data)`,
//! node = `H(0x01 ‖ left ‖ right)`, the left subtree holds the largest power of two below
//! the leaf count (RFC 6962 shape), odd nodes are never duplicated; no leaves → `H()`.

use crate::hash::{Hash, Hasher};

pub fn merkle_root<L: AsRef<[u8]>>(leaves: &[L]) -> Hash {
    if leaves.is_empty() {
        return Hasher::new().finish();
    }
    subtree(leaves)
}

fn subtree<L: AsRef<[u8]>>(leaves: &[L]) -> Hash {
    if let [only] = leaves {
        let mut h = Hasher::new();
        h.update(&[0x00]).update(only.as_ref());
        return h.finish();
    }
    // Largest power of two strictly below the count (count >= 2 here).
    let split = 1usize << (usize::BITS - 1 - (leaves.len() - 1).leading_zeros());
    let (left, right) = leaves.split_at(split);
    let mut h = Hasher::new();
    h.update(&[0x01])
        .update(subtree(left).as_bytes())
        .update(subtree(right).as_bytes());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_matches_rfc6962() {
        let leaf = |b: u8| {
            let mut h = Hasher::new();
            h.update(&[0, b]);
            h.finish()
        };
        let node = |l: Hash, r: Hash| {
            let mut h = Hasher::new();
            h.update(&[1]).update(l.as_bytes()).update(r.as_bytes());
            h.finish()
        };
        let leaves: Vec<[u8; 1]> = (1..=3).map(|b| [b]).collect();
        let expected = node(node(leaf(1), leaf(2)), leaf(3));
        assert_eq!(merkle_root(&leaves), expected);
        assert_eq!(merkle_root(&leaves[..1]), leaf(1));
        assert_eq!(merkle_root::<[u8; 1]>(&[]), Hasher::new().finish());
    }
}
