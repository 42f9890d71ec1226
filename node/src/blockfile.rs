//! The block file of `export-blocks` / `import-blocks`: a magic header, then each block as
//! a little-endian u32 length and its consensus encoding, in height order.

use std::io::{Read, Write};
use tfchain_types::limits::MAX_BLOCK_SIZE;
use tfchain_types::{Block, CodecError};

pub const MAGIC: &[u8; 8] = b"TFCBLK01";

#[derive(Debug, thiserror::Error)]
pub enum BlockFileError {
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a tfchain block file (bad magic): was it written by `tfchaind export-blocks`?")]
    BadMagic,
    #[error("block {index} in the file is {len} bytes, above the {max}-byte limit")]
    TooLarge { index: u64, len: usize, max: usize },
    #[error("block {index} in the file does not decode: {source}")]
    Decode { index: u64, source: CodecError },
    #[error("the file ends in the middle of block {index}")]
    Truncated { index: u64 },
}

pub struct BlockWriter<W: Write> {
    out: W,
}

impl<W: Write> std::fmt::Debug for BlockWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlockWriter")
    }
}

impl<W: Write> BlockWriter<W> {
    pub fn new(mut out: W) -> Result<Self, BlockFileError> {
        out.write_all(MAGIC)?;
        Ok(BlockWriter { out })
    }

    pub fn write(&mut self, block: &Block) -> Result<(), BlockFileError> {
        let bytes = tfchain_types::encode(block);
        let len = u32::try_from(bytes.len()).map_err(|_| BlockFileError::TooLarge {
            index: 0,
            len: bytes.len(),
            max: MAX_BLOCK_SIZE,
        })?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&bytes)?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<W, BlockFileError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads blocks one by one; never allocates more than one block's limit.
pub struct BlockReader<R: Read> {
    input: R,
    index: u64,
    buf: Vec<u8>,
}

impl<R: Read> std::fmt::Debug for BlockReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlockReader(at block {})", self.index)
    }
}

impl<R: Read> BlockReader<R> {
    pub fn new(mut input: R) -> Result<Self, BlockFileError> {
        let mut magic = [0u8; 8];
        input
            .read_exact(&mut magic)
            .map_err(|_| BlockFileError::BadMagic)?;
        if &magic != MAGIC {
            return Err(BlockFileError::BadMagic);
        }
        Ok(BlockReader {
            input,
            index: 0,
            buf: Vec::new(),
        })
    }

    /// The next block, `None` at a clean end of file.
    pub fn next_block(&mut self) -> Result<Option<Block>, BlockFileError> {
        let mut len = [0u8; 4];
        match read_full(&mut self.input, &mut len)? {
            0 => return Ok(None),
            4 => {}
            _ => return Err(BlockFileError::Truncated { index: self.index }),
        }
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_BLOCK_SIZE {
            return Err(BlockFileError::TooLarge {
                index: self.index,
                len,
                max: MAX_BLOCK_SIZE,
            });
        }
        self.buf.resize(len, 0);
        if read_full(&mut self.input, &mut self.buf)? != len {
            return Err(BlockFileError::Truncated { index: self.index });
        }
        let block =
            tfchain_types::decode_block(&self.buf).map_err(|source| BlockFileError::Decode {
                index: self.index,
                source,
            })?;
        self.index += 1;
        Ok(Some(block))
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
