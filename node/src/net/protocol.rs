//! The wire format of the peer-to-peer protocol (PROTOCOL.md §12): gossip topics and
//! payloads, and the `/tfchain/<genesis_id>/sync/1` request-response protocol (a status
//! handshake, headers by block locator, blocks by ID, peer exchange).
//!
//! Every message uses the consensus codec (§2) with a size limit per message kind and a
//! maximum length on every list, checked before allocation; a frame is a little-endian
//! `u32` length followed by that many bytes.

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::gossipsub::IdentTopic;
use libp2p::StreamProtocol;
use serde::{Deserialize, Serialize};
use std::io;
use tfchain_consensus::equivocation::SignedHeader;
use tfchain_consensus::Work;
use tfchain_types::codec::{self, bounded};
use tfchain_types::limits::MAX_BLOCK_SIZE;
use tfchain_types::{Block, BlockId, Height, Transaction};

/// Most headers in one response (PROTOCOL.md §12).
pub const MAX_HEADERS: usize = 512;
/// Most blocks in one response (PROTOCOL.md §12).
pub const MAX_BLOCKS: usize = 64;
/// Most entries of a block locator.
pub const MAX_LOCATOR: usize = 64;
/// Most peers in a peer-exchange response.
pub const MAX_PEER_RECORDS: usize = 64;
/// Most addresses per peer record, and the largest address or peer ID in bytes.
pub const MAX_ADDRS_PER_PEER: usize = 8;
pub const MAX_ADDR_BYTES: usize = 128;
/// Most transactions in one gossip message.
pub const MAX_GOSSIP_TXS: usize = 1_024;
/// Largest transaction gossip message (node policy, below the §8 gossip limit).
pub const MAX_TX_GOSSIP_BYTES: usize = 1024 * 1024;
/// Largest request frame.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// The most block bytes a server puts in one response (at least one block is always sent).
pub const MAX_RESPONSE_BLOCK_BYTES: u32 = 16 * 1024 * 1024;
/// Largest response frame: the block budget, one more block, and framing.
pub const MAX_RESPONSE_BYTES: usize = MAX_RESPONSE_BLOCK_BYTES as usize + MAX_BLOCK_SIZE + 65_536;

/// A node's view of its chain, exchanged on connection and refreshed periodically.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub genesis: BlockId,
    pub height: Height,
    pub tip: BlockId,
    pub total_work: Work,
}

/// A peer and the addresses it can be dialled on (peer exchange).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerRecord {
    #[serde(deserialize_with = "bounded::<_, _, MAX_ADDR_BYTES>")]
    pub peer_id: Vec<u8>,
    #[serde(deserialize_with = "bounded_addrs")]
    pub addrs: Vec<Vec<u8>>,
}

fn bounded_addrs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
    #[derive(Deserialize)]
    struct Addr(#[serde(deserialize_with = "bounded::<_, _, MAX_ADDR_BYTES>")] Vec<u8>);
    let v: Vec<Addr> = bounded::<_, _, MAX_ADDRS_PER_PEER>(d)?;
    Ok(v.into_iter().map(|a| a.0).collect())
}

/// A request of the sync protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// The handshake: here is my status, send yours.
    Status(Status),
    /// Main-chain headers after the first locator entry the server has on its main chain
    /// (genesis when none), at most `max` (capped at [`MAX_HEADERS`]).
    Headers {
        #[serde(deserialize_with = "bounded::<_, _, MAX_LOCATOR>")]
        locator: Vec<BlockId>,
        max: u32,
    },
    /// The blocks with these IDs, in order, stopping at the first one the server lacks or
    /// once `max_bytes` would be exceeded (always at least one block when it has the first).
    Blocks {
        #[serde(deserialize_with = "bounded::<_, _, MAX_BLOCKS>")]
        ids: Vec<BlockId>,
        max_bytes: u32,
    },
    /// Peers the server knows, for discovery.
    Peers,
}

/// A response of the sync protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    Status(Status),
    Headers(#[serde(deserialize_with = "bounded::<_, _, MAX_HEADERS>")] Vec<SignedHeader>),
    Blocks(#[serde(deserialize_with = "bounded::<_, _, MAX_BLOCKS>")] Vec<Block>),
    Peers(#[serde(deserialize_with = "bounded::<_, _, MAX_PEER_RECORDS>")] Vec<PeerRecord>),
    /// The server cannot answer now (busy, shutting down): try another peer.
    Busy,
}

/// A transaction gossip message: a batch of transactions. The nonce makes a re-announced
/// batch a new gossip message (the message ID is the hash of the payload).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxGossip {
    pub nonce: u64,
    #[serde(deserialize_with = "bounded::<_, _, MAX_GOSSIP_TXS>")]
    pub txs: Vec<Transaction>,
}

pub fn decode_tx_gossip(bytes: &[u8]) -> Result<TxGossip, codec::CodecError> {
    codec::decode::<TxGossip, MAX_TX_GOSSIP_BYTES>(bytes)
}

/// The gossip topics and the sync protocol name of one network.
#[derive(Clone, Debug)]
pub struct Names {
    pub blocks: IdentTopic,
    pub txs: IdentTopic,
    pub sync: StreamProtocol,
    /// The identify protocol version: peers announcing another are of another network.
    pub identify: String,
}

impl Names {
    pub fn new(genesis: &BlockId) -> Names {
        let g = hex::encode(genesis.as_bytes());
        Names {
            blocks: IdentTopic::new(format!("/tfchain/{g}/blocks/1")),
            txs: IdentTopic::new(format!("/tfchain/{g}/txs/1")),
            sync: StreamProtocol::try_from_owned(format!("/tfchain/{g}/sync/1"))
                .expect("the protocol name starts with a slash"),
            identify: format!("/tfchain/{g}/1"),
        }
    }
}

/// The sync protocol's codec: length-prefixed consensus encoding with per-direction limits.
#[derive(Clone, Copy, Debug, Default)]
pub struct SyncCodec;

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, limit: usize) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_le_bytes(len) as usize;
    if len > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes exceeds the {limit}-byte limit"),
        ));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    Ok(buf)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    io.write_all(&len.to_le_bytes()).await?;
    io.write_all(bytes).await?;
    io.close().await
}

fn invalid(e: codec::CodecError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl libp2p::request_response::Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Response;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Request> {
        let bytes = read_frame(io, MAX_REQUEST_BYTES).await?;
        codec::decode::<Request, MAX_REQUEST_BYTES>(&bytes).map_err(invalid)
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Response> {
        let bytes = read_frame(io, MAX_RESPONSE_BYTES).await?;
        codec::decode::<Response, MAX_RESPONSE_BYTES>(&bytes).map_err(invalid)
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Request,
    ) -> io::Result<()> {
        write_frame(io, &codec::encode(&req)).await
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Response,
    ) -> io::Result<()> {
        write_frame(io, &codec::encode(&res)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfchain_types::Hash;

    fn status() -> Status {
        Status {
            genesis: BlockId(Hash([1; 32])),
            height: 7,
            tip: BlockId(Hash([2; 32])),
            total_work: Work::default(),
        }
    }

    #[test]
    fn messages_round_trip_and_lists_are_bounded() {
        let reqs = [
            Request::Status(status()),
            Request::Headers {
                locator: vec![BlockId::ZERO; 3],
                max: 512,
            },
            Request::Blocks {
                ids: vec![BlockId::ZERO; 2],
                max_bytes: 10,
            },
            Request::Peers,
        ];
        for r in reqs {
            let bytes = codec::encode(&r);
            assert_eq!(
                codec::decode::<Request, MAX_REQUEST_BYTES>(&bytes).expect("round trip"),
                r
            );
        }
        let too_long = Request::Headers {
            locator: vec![BlockId::ZERO; MAX_LOCATOR + 1],
            max: 1,
        };
        assert!(codec::decode::<Request, MAX_REQUEST_BYTES>(&codec::encode(&too_long)).is_err());
        let peers = Response::Peers(vec![PeerRecord {
            peer_id: vec![1; 10],
            addrs: vec![vec![2; MAX_ADDR_BYTES + 1]],
        }]);
        assert!(codec::decode::<Response, MAX_RESPONSE_BYTES>(&codec::encode(&peers)).is_err());
        let gossip = TxGossip {
            nonce: 5,
            txs: vec![],
        };
        assert_eq!(
            decode_tx_gossip(&codec::encode(&gossip)).expect("decodes"),
            gossip
        );
        assert!(decode_tx_gossip(&[1, 2, 3]).is_err());
    }

    #[test]
    fn names_carry_the_genesis_id() {
        let n = Names::new(&BlockId(Hash([0xab; 32])));
        let g = "ab".repeat(32);
        assert_eq!(n.blocks.to_string(), format!("/tfchain/{g}/blocks/1"));
        assert_eq!(n.txs.to_string(), format!("/tfchain/{g}/txs/1"));
        assert_eq!(n.sync.as_ref(), format!("/tfchain/{g}/sync/1"));
    }
}
