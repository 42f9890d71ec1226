//! Blocks whose parent has not arrived yet (and blocks slightly ahead of the clock), held
//! in bounded memory until they can be connected. The oldest go first when full.

use std::collections::BTreeMap;
use tfchain_types::{Block, BlockId};

/// Most blocks held.
pub const MAX_HELD_BLOCKS: usize = 512;
/// Most encoded bytes held (64 MiB).
pub const MAX_HELD_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Default)]
pub struct Held {
    /// Insertion sequence → (block id, parent, size).
    order: BTreeMap<u64, (BlockId, BlockId, usize)>,
    blocks: BTreeMap<BlockId, (u64, Block)>,
    by_parent: BTreeMap<BlockId, Vec<BlockId>>,
    bytes: usize,
    next_seq: u64,
}

impl Held {
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    pub fn contains(&self, id: &BlockId) -> bool {
        self.blocks.contains_key(id)
    }

    /// Holds `block`, evicting the oldest blocks beyond the limits.
    pub fn insert(&mut self, block: Block) {
        let id = block.id();
        if self.blocks.contains_key(&id) {
            return;
        }
        let size = block.encoded_len();
        let parent = block.header.parent;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.insert(seq, (id, parent, size));
        self.by_parent.entry(parent).or_default().push(id);
        self.blocks.insert(id, (seq, block));
        self.bytes += size;
        while self.blocks.len() > MAX_HELD_BLOCKS || self.bytes > MAX_HELD_BYTES {
            let Some((_, (oldest, _, _))) = self.order.iter().next().map(|(k, v)| (*k, *v)) else {
                break;
            };
            self.remove(&oldest);
        }
    }

    fn remove(&mut self, id: &BlockId) -> Option<Block> {
        let (seq, block) = self.blocks.remove(id)?;
        self.order.remove(&seq);
        let parent = block.header.parent;
        if let Some(children) = self.by_parent.get_mut(&parent) {
            children.retain(|c| c != id);
            if children.is_empty() {
                self.by_parent.remove(&parent);
            }
        }
        self.bytes = self.bytes.saturating_sub(block.encoded_len());
        Some(block)
    }

    /// Takes the held children of `parent`.
    pub fn take_children(&mut self, parent: &BlockId) -> Vec<Block> {
        let ids = self.by_parent.get(parent).cloned().unwrap_or_default();
        ids.iter().filter_map(|id| self.remove(id)).collect()
    }

    /// Takes every held block (to retry them all, e.g. blocks that were ahead of the clock).
    pub fn take_all(&mut self) -> Vec<Block> {
        let ids: Vec<BlockId> = self.order.values().map(|(id, _, _)| *id).collect();
        ids.iter().filter_map(|id| self.remove(id)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfchain_consensus::testkit::TestChain;
    use tfchain_types::Currency;

    #[test]
    fn holds_children_until_their_parent_and_stays_bounded() {
        let chain = TestChain::new(&[1], 0, Currency::ZERO);
        let (block, _) = chain.next_block(vec![]);
        let parent = block.header.parent;
        let mut held = Held::default();
        held.insert(block.clone());
        held.insert(block.clone());
        assert_eq!(held.len(), 1);
        assert!(held.take_children(&BlockId::ZERO).is_empty());
        assert_eq!(held.take_children(&parent), vec![block.clone()]);
        assert!(held.is_empty());

        for i in 0..(MAX_HELD_BLOCKS as u64 + 10) {
            let mut b = block.clone();
            b.header.timestamp += i;
            held.insert(b);
        }
        assert_eq!(held.len(), MAX_HELD_BLOCKS);
        // The oldest went first: the first ten timestamps are gone.
        let kept: Vec<u64> = held.take_all().iter().map(|b| b.header.timestamp).collect();
        assert_eq!(kept[0], block.header.timestamp + 10);
    }
}
