//! Block files: the blocks and their commit records in append-only, numbered segment files
//! under `<data_dir>/blocks/` (`seg00000.tfb`, `seg00001.tfb`, …), the way Bitcoin Core
//! keeps `blk*.dat` apart from its chainstate database. sled keeps only a [`FileLoc`] per
//! block.
//!
//! # Record format
//! `magic "TFR1" ‖ kind u8 ‖ len u32 LE ‖ checksum [8] ‖ payload[len]`, where the checksum is
//! the first 8 bytes of `blake2b(kind ‖ len ‖ payload)`. A record is written with one
//! `write_all` and made durable by [`BlockFiles::sync`] (fdatasync of the segment, and of the
//! directory when a segment was created).
//!
//! # Recovery
//! Only records appended after the last state flush can be torn by a crash: everything
//! before it was synced before the flush. [`BlockFiles::recover`] scans from there to the
//! end, keeps the longest run of whole records with good checksums, and truncates the rest
//! (a half-written record, or one whose bytes a failing disk changed).

use super::error::StoreError;
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: &[u8; 4] = b"TFR1";
const HEADER: usize = 4 + 1 + 4 + 8;
/// A segment is closed once it passes this size (a record never spans two segments).
pub(crate) const SEGMENT_BYTES: u64 = 128 * 1024 * 1024;
/// No record is larger (a commit record of a full block with its diff stays far below).
const RECORD_MAX: usize = 256 * 1024 * 1024;

/// What a record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    /// A block in its consensus encoding.
    Block = 1,
    /// A [`CommitRecord`](super::types::CommitRecord): a block joined the main chain.
    Commit = 2,
    /// The main-chain tip named by the payload (its 32-byte ID) was undone.
    Undo = 3,
    /// A reorganisation starts here (after a checkpoint). Replay applies what follows only
    /// if it finds the matching [`Kind::ReorgEnd`].
    ReorgBegin = 4,
    ReorgEnd = 5,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Block),
            2 => Some(Kind::Commit),
            3 => Some(Kind::Undo),
            4 => Some(Kind::ReorgBegin),
            5 => Some(Kind::ReorgEnd),
            _ => None,
        }
    }
}

/// Where a record's payload is: segment number, offset of the record, payload length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileLoc {
    pub segment: u32,
    pub offset: u64,
    pub len: u32,
}

impl FileLoc {
    /// The position just after this record.
    pub fn end(&self) -> FilePos {
        FilePos {
            segment: self.segment,
            offset: self.offset + (HEADER + self.len as usize) as u64,
        }
    }
}

/// A position in the block files: the end of what was written (segment, byte offset).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FilePos {
    pub segment: u32,
    pub offset: u64,
}

/// The segment files of one store. Appends are serialised (the store's writer lock holds
/// them anyway); reads use positional reads on shared handles and never block appends.
pub(crate) struct BlockFiles {
    dir: PathBuf,
    append: Mutex<Appender>,
    /// How far the files are known durable (synced by this process).
    synced: Mutex<FilePos>,
    readers: RwLock<BTreeMap<u32, Arc<File>>>,
}

struct Appender {
    file: File,
    segment: u32,
    len: u64,
    /// Whether anything was written since the last sync (and whether the directory needs
    /// one: a new segment).
    dirty: bool,
    new_segment: bool,
}

impl std::fmt::Debug for BlockFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockFiles")
            .field("dir", &self.dir)
            .finish()
    }
}

fn segment_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("seg{n:05}.tfb"))
}

fn io_error(what: String, e: std::io::Error) -> StoreError {
    StoreError::Io { what, source: e }
}

/// The record's checksum.
fn checksum(kind: u8, payload: &[u8]) -> [u8; 8] {
    let mut buf = Vec::with_capacity(5 + payload.len());
    buf.push(kind);
    buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    buf.extend_from_slice(payload);
    let h = tfchain_types::hash::blake2b(&buf);
    let mut out = [0u8; 8];
    out.copy_from_slice(&h.as_bytes()[..8]);
    out
}

impl BlockFiles {
    /// Opens (creating) `dir` and its segments, appending to the last one. Call
    /// [`BlockFiles::recover`] before appending.
    pub fn open(dir: &Path) -> Result<BlockFiles, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| io_error(format!("creating {}", dir.display()), e))?;
        let mut segments = Vec::new();
        let entries = std::fs::read_dir(dir)
            .map_err(|e| io_error(format!("reading {}", dir.display()), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error(format!("reading {}", dir.display()), e))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = name
                .strip_prefix("seg")
                .and_then(|s| s.strip_suffix(".tfb"))
                .and_then(|s| s.parse::<u32>().ok())
            {
                segments.push(n);
            }
        }
        segments.sort_unstable();
        let last = segments.last().copied().unwrap_or(0);
        let files = BlockFiles {
            dir: dir.to_path_buf(),
            append: Mutex::new(Self::open_appender(dir, last)?),
            synced: Mutex::new(FilePos::default()),
            readers: RwLock::new(BTreeMap::new()),
        };
        Ok(files)
    }

    fn open_appender(dir: &Path, segment: u32) -> Result<Appender, StoreError> {
        let path = segment_path(dir, segment);
        let existed = path.exists();
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| io_error(format!("opening {}", path.display()), e))?;
        let len = file
            .metadata()
            .map_err(|e| io_error(format!("reading {}", path.display()), e))?
            .len();
        Ok(Appender {
            file,
            segment,
            len,
            // Synced once by this process before it counts as durable (what an earlier one
            // wrote may still sit in the page cache).
            dirty: true,
            new_segment: !existed,
        })
    }

    /// The end of what has been appended.
    pub fn end(&self) -> FilePos {
        let a = self.append.lock();
        FilePos {
            segment: a.segment,
            offset: a.len,
        }
    }

    /// Appends one record; durable after [`BlockFiles::sync`].
    pub fn append(&self, kind: Kind, payload: &[u8]) -> Result<FileLoc, StoreError> {
        if payload.len() > RECORD_MAX {
            return Err(StoreError::unrecoverable(format!(
                "a {kind:?} record of {} bytes is above the {RECORD_MAX}-byte record limit",
                payload.len()
            )));
        }
        let mut a = self.append.lock();
        if a.len > 0 && a.len + (HEADER + payload.len()) as u64 > SEGMENT_BYTES {
            // Close the full segment (synced, so every segment but the last is whole).
            self.sync_appender(&mut a)?;
            let next = a.segment + 1;
            *a = Self::open_appender(&self.dir, next)?;
        }
        let mut rec = Vec::with_capacity(HEADER + payload.len());
        rec.extend_from_slice(MAGIC);
        rec.push(kind as u8);
        rec.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        rec.extend_from_slice(&checksum(kind as u8, payload));
        rec.extend_from_slice(payload);
        if let Err(e) = a.file.write_all(&rec) {
            // A partial write (disk full) would leave a torn record that later appends
            // follow: cut it off now so the file stays a run of whole records.
            let _ = a.file.set_len(a.len);
            let path = segment_path(&self.dir, a.segment);
            return Err(io_error(format!("appending to {}", path.display()), e));
        }
        let loc = FileLoc {
            segment: a.segment,
            offset: a.len,
            len: payload.len() as u32,
        };
        a.len += rec.len() as u64;
        a.dirty = true;
        Ok(loc)
    }

    /// Makes everything appended so far durable.
    pub fn sync(&self) -> Result<(), StoreError> {
        let mut a = self.append.lock();
        self.sync_appender(&mut a)
    }

    /// How far the block files are durable: every record ending at or before it.
    pub fn synced_end(&self) -> FilePos {
        *self.synced.lock()
    }

    fn sync_appender(&self, a: &mut Appender) -> Result<(), StoreError> {
        if !a.dirty {
            return Ok(());
        }
        let path = segment_path(&self.dir, a.segment);
        a.file
            .sync_data()
            .map_err(|e| io_error(format!("syncing {}", path.display()), e))?;
        if a.new_segment {
            File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io_error(format!("syncing {}", self.dir.display()), e))?;
            a.new_segment = false;
        }
        a.dirty = false;
        *self.synced.lock() = FilePos {
            segment: a.segment,
            offset: a.len,
        };
        Ok(())
    }

    fn reader(&self, segment: u32) -> Result<Arc<File>, StoreError> {
        if let Some(f) = self.readers.read().get(&segment) {
            return Ok(f.clone());
        }
        let path = segment_path(&self.dir, segment);
        let f = Arc::new(
            File::open(&path).map_err(|e| io_error(format!("opening {}", path.display()), e))?,
        );
        self.readers.write().insert(segment, f.clone());
        Ok(f)
    }

    /// Reads the payload at `loc`, checking its kind and checksum.
    pub fn read(&self, loc: FileLoc, want: Kind) -> Result<Vec<u8>, StoreError> {
        let f = self.reader(loc.segment)?;
        let mut buf = vec![0u8; HEADER + loc.len as usize];
        let bad = |detail: String| StoreError::Corrupt {
            table: "block files",
            key: format!("segment {} offset {}", loc.segment, loc.offset),
            detail,
        };
        f.read_exact_at(&mut buf, loc.offset)
            .map_err(|e| bad(format!("cannot read the record: {e}")))?;
        match parse_header(&buf) {
            Some((kind, len, sum)) if kind == want && len == loc.len as usize => {
                let payload = buf.split_off(HEADER);
                if checksum(kind as u8, &payload) != sum {
                    return Err(bad("checksum mismatch".into()));
                }
                Ok(payload)
            }
            _ => Err(bad(format!("no {want:?} record of {} bytes here", loc.len))),
        }
    }

    /// Scans the records from `from` to the end, truncating at the first one that is torn
    /// or damaged (and removing any later segment). Returns the whole records found, in
    /// order, and whether anything was dropped.
    pub fn recover(&self, from: FilePos) -> Result<Recovered, StoreError> {
        let mut a = self.append.lock();
        if from.segment > a.segment || (from.segment == a.segment && from.offset > a.len) {
            return Err(StoreError::unrecoverable(format!(
                "the database says the block files reach segment {} offset {}, but {} ends at \
                 segment {} offset {}: the block files were truncated or replaced",
                from.segment,
                from.offset,
                self.dir.display(),
                a.segment,
                a.len
            )));
        }
        let mut out = Recovered::default();
        let mut pos = from;
        loop {
            let path = segment_path(&self.dir, pos.segment);
            let data = match std::fs::read(&path) {
                Ok(d) => d,
                Err(e)
                    if e.kind() == std::io::ErrorKind::NotFound && pos.segment > from.segment =>
                {
                    break
                }
                Err(e) => return Err(io_error(format!("reading {}", path.display()), e)),
            };
            let mut off = pos.offset as usize;
            let mut damaged = false;
            while off < data.len() {
                match parse_record(&data[off..]) {
                    Some((kind, len)) => {
                        out.records.push((
                            kind,
                            FileLoc {
                                segment: pos.segment,
                                offset: off as u64,
                                len: len as u32,
                            },
                        ));
                        off += HEADER + len;
                    }
                    None => {
                        damaged = true;
                        break;
                    }
                }
            }
            if damaged {
                out.dropped_bytes += (data.len() - off) as u64;
                out.dropped_at = Some(FilePos {
                    segment: pos.segment,
                    offset: off as u64,
                });
                let f = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| io_error(format!("opening {}", path.display()), e))?;
                f.set_len(off as u64)
                    .and_then(|_| f.sync_all())
                    .map_err(|e| io_error(format!("truncating {}", path.display()), e))?;
                // Nothing after a damaged record can be trusted to follow it.
                let mut later = pos.segment + 1;
                while segment_path(&self.dir, later).exists() {
                    let p = segment_path(&self.dir, later);
                    out.dropped_bytes += p.metadata().map(|m| m.len()).unwrap_or(0);
                    std::fs::remove_file(&p)
                        .map_err(|e| io_error(format!("removing {}", p.display()), e))?;
                    later += 1;
                }
                self.readers.write().clear();
                *a = Self::open_appender(&self.dir, pos.segment)?;
                break;
            }
            pos = FilePos {
                segment: pos.segment + 1,
                offset: 0,
            };
            if pos.segment > a.segment {
                break;
            }
        }
        Ok(out)
    }

    /// Bytes in all segments.
    pub fn size_on_disk(&self) -> u64 {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    }
}

/// What [`BlockFiles::recover`] found.
#[derive(Debug, Default)]
pub(crate) struct Recovered {
    pub records: Vec<(Kind, FileLoc)>,
    /// Where a torn or damaged record was cut off, and how many bytes went with it.
    pub dropped_at: Option<FilePos>,
    pub dropped_bytes: u64,
}

fn parse_header(buf: &[u8]) -> Option<(Kind, usize, [u8; 8])> {
    if buf.len() < HEADER || &buf[..4] != MAGIC {
        return None;
    }
    let kind = Kind::from_u8(buf[4])?;
    let len = u32::from_le_bytes(buf[5..9].try_into().ok()?) as usize;
    if len > RECORD_MAX {
        return None;
    }
    let sum: [u8; 8] = buf[9..17].try_into().ok()?;
    Some((kind, len, sum))
}

/// A whole record with a good checksum at the start of `buf`: its kind and payload length.
fn parse_record(buf: &[u8]) -> Option<(Kind, usize)> {
    let (kind, len, sum) = parse_header(buf)?;
    let payload = buf.get(HEADER..HEADER + len)?;
    (checksum(kind as u8, payload) == sum).then_some((kind, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_a_torn_tail_is_cut_off() {
        let dir = tempfile::tempdir().expect("the call succeeds");
        let files = BlockFiles::open(dir.path()).expect("the call succeeds");
        assert!(files
            .recover(FilePos::default())
            .expect("the call succeeds")
            .records
            .is_empty());
        let a = files
            .append(Kind::Block, b"first")
            .expect("the call succeeds");
        let b = files
            .append(Kind::Commit, b"second")
            .expect("the call succeeds");
        files.sync().expect("the call succeeds");
        assert_eq!(
            files.read(a, Kind::Block).expect("the call succeeds"),
            b"first"
        );
        assert_eq!(
            files.read(b, Kind::Commit).expect("the call succeeds"),
            b"second"
        );
        assert!(files.read(a, Kind::Commit).is_err(), "the kind is checked");
        let end = files.end();
        drop(files);

        // A torn third record: half its bytes.
        let path = segment_path(dir.path(), 0);
        let mut f = OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("the call succeeds");
        f.write_all(&[b'T', b'F', b'R', b'1', 1, 9, 0])
            .expect("the call succeeds");
        drop(f);
        let files = BlockFiles::open(dir.path()).expect("the call succeeds");
        let r = files
            .recover(FilePos::default())
            .expect("the call succeeds");
        assert_eq!(r.records, vec![(Kind::Block, a), (Kind::Commit, b)]);
        assert_eq!(r.dropped_at, Some(end));
        assert_eq!(files.end(), end, "the torn record is gone");
        let c = files
            .append(Kind::Block, b"third")
            .expect("the call succeeds");
        assert_eq!(c.offset, end.offset);
        assert_eq!(
            files.read(c, Kind::Block).expect("the call succeeds"),
            b"third"
        );
    }

    #[test]
    fn a_flipped_byte_is_caught_by_the_checksum() {
        let dir = tempfile::tempdir().expect("the call succeeds");
        let files = BlockFiles::open(dir.path()).expect("the call succeeds");
        let a = files
            .append(Kind::Block, b"good block")
            .expect("the call succeeds");
        let b = files
            .append(Kind::Block, b"flipped")
            .expect("the call succeeds");
        files.sync().expect("the call succeeds");
        drop(files);
        let path = segment_path(dir.path(), 0);
        let mut bytes = std::fs::read(&path).expect("the call succeeds");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).expect("the call succeeds");
        let files = BlockFiles::open(dir.path()).expect("the call succeeds");
        assert!(files.read(b, Kind::Block).is_err());
        let r = files
            .recover(FilePos::default())
            .expect("the call succeeds");
        assert_eq!(r.records, vec![(Kind::Block, a)]);
        assert_eq!(r.dropped_at.map(|p| p.offset), Some(b.offset));
    }

    #[test]
    fn a_full_segment_rolls_over_to_the_next() {
        let dir = tempfile::tempdir().expect("the call succeeds");
        let files = BlockFiles::open(dir.path()).expect("the call succeeds");
        files
            .recover(FilePos::default())
            .expect("the call succeeds");
        {
            // Pretend the segment is nearly full.
            let mut a = files.append.lock();
            a.len = SEGMENT_BYTES - 4;
        }
        let loc = files
            .append(Kind::Block, b"next")
            .expect("the call succeeds");
        assert_eq!((loc.segment, loc.offset), (1, 0));
        assert_eq!(
            files.read(loc, Kind::Block).expect("the call succeeds"),
            b"next"
        );
    }

    #[test]
    fn a_flush_point_beyond_the_files_is_refused() {
        let dir = tempfile::tempdir().expect("the call succeeds");
        let files = BlockFiles::open(dir.path()).expect("the call succeeds");
        let err = files
            .recover(FilePos {
                segment: 0,
                offset: 100,
            })
            .expect_err("the call fails");
        assert!(err.to_string().contains("truncated or replaced"), "{err}");
    }
}
