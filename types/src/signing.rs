//! Filling in signatures (PROTOCOL.md §4.2): every signature of a transaction signs its
//! sighash, and the unsigned form keeps public keys, so a transaction is built with each
//! signature slot naming its key, then [`Transaction::sign_with`] fills the slots of the
//! keys at hand. Multi-party signing is the same call by each party in turn.

use crate::condition::{Fulfillment, KeySignature};
use crate::hash::BlockId;
use crate::keys::{PublicKey, SecretKey, Signature};
use crate::transaction::Transaction;

impl Transaction {
    /// Signs every slot whose public key is one of `keys`: input fulfillments (single,
    /// multisig entries, swap claims and refunds), grid op authorisations, and a
    /// `RegisterNode`'s `node_sig` (when its node key is given). Returns how many slots
    /// were signed.
    pub fn sign_with(&mut self, genesis_id: &BlockId, keys: &[SecretKey]) -> usize {
        let sighash = self.sighash(genesis_id);
        let signer = |pk: &PublicKey| -> Option<Signature> {
            keys.iter()
                .find(|k| k.public_key() == *pk)
                .map(|k| k.sign_hash(&sighash))
        };
        let signed = std::cell::Cell::new(0usize);
        let sign_ks = |ks: &mut KeySignature| {
            if let Some(sig) = signer(&ks.public_key) {
                ks.signature = sig;
                signed.set(signed.get() + 1);
            }
        };
        let sign_fulfillment = |f: &mut Fulfillment| match f {
            Fulfillment::Signature(ks) => sign_ks(ks),
            Fulfillment::MultiSignature(list) => list.iter_mut().for_each(sign_ks),
            Fulfillment::Claim {
                public_key,
                signature,
                ..
            }
            | Fulfillment::Refund {
                public_key,
                signature,
            } => {
                let mut ks = KeySignature {
                    public_key: *public_key,
                    signature: *signature,
                };
                sign_ks(&mut ks);
                *signature = ks.signature;
            }
        };
        for input in self
            .coin_inputs
            .iter_mut()
            .chain(self.blockstake_inputs.iter_mut())
        {
            sign_fulfillment(&mut input.fulfillment);
        }
        for op in &mut self.grid_ops {
            if let Some(f) = op.authorization_mut() {
                sign_fulfillment(f);
            }
            if let Some((node_key, node_sig)) = op.node_sig_mut() {
                if let Some(sig) = signer(node_key) {
                    *node_sig = sig;
                    signed.set(signed.get() + 1);
                }
            }
        }
        signed.get()
    }
}

/// A single-key fulfilment naming `key`, its signature still blank: put it in a slot,
/// then [`Transaction::sign_with`].
pub fn unsigned_by(key: &PublicKey) -> Fulfillment {
    Fulfillment::Signature(KeySignature {
        public_key: *key,
        signature: Signature::ZERO,
    })
}
