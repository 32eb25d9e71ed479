//! Parallel compression for backhand, which compresses one block at a time
//! on the thread that writes (its issue #279).
//!
//! backhand calls [`CompressionAction::compress`] for every data block, in
//! an order that follows from the file list alone: files in path order;
//! a file of a block or more gives one call per block that is not all
//! zeros (its last, shorter block too); smaller files are packed into a
//! fragment buffer that is compressed whenever the next file would not fit,
//! and once at the end. A producer thread walks the same files the same
//! way, reading ahead, and hands each predicted block to the rayon pool.
//! When backhand asks for a block, [`PipelinedCompressor`] returns the
//! result computed ahead if a queued block has exactly the same bytes, and
//! compresses inline otherwise (metadata blocks, or any misprediction).
//! Compression is a pure function of the bytes, so the image is the same
//! with any number of threads; only the speed changes.
//!
//! The queue holds at most `capacity` blocks (input and output), so memory
//! stays bounded whatever the size of the closure.

use std::collections::VecDeque;
use std::fs::File;

use nix_repart_progress::Counter;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use backhand::compression::{CompressionAction, Compressor, DefaultCompressor};
use backhand::{BackhandError, FilesystemCompressor, SuperBlock};

struct Slot {
    input: Arc<Vec<u8>>,
    output: Receiver<Result<Vec<u8>, BackhandError>>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Slot>,
    producer_done: bool,
    stop: bool,
}

/// Blocks compressed ahead of backhand, in predicted order.
pub struct Pipeline {
    state: Mutex<State>,
    changed: Condvar,
    capacity: usize,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Pipeline {
    fn new(capacity: usize) -> Pipeline {
        Pipeline { state: Mutex::new(State::default()), changed: Condvar::new(), capacity: capacity.max(2) }
    }

    /// Queues one block; blocks while the queue is full. False once stopped.
    fn push(&self, input: Vec<u8>, compressor: FilesystemCompressor, block_size: u32) -> bool {
        let mut state = lock(&self.state);
        while state.queue.len() >= self.capacity && !state.stop {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        if state.stop {
            return false;
        }
        let input = Arc::new(input);
        let (tx, rx) = channel();
        let job = Arc::clone(&input);
        rayon::spawn(move || {
            let _ = tx.send(DefaultCompressor.compress(&job, compressor, block_size));
        });
        state.queue.push_back(Slot { input, output: rx });
        self.changed.notify_all();
        true
    }

    fn finish(&self) {
        lock(&self.state).producer_done = true;
        self.changed.notify_all();
    }

    /// Stops the producer and drops what is queued.
    pub fn stop(&self) {
        let mut state = lock(&self.state);
        state.stop = true;
        state.queue.clear();
        self.changed.notify_all();
    }

    /// The compressed form of `bytes`, if it was computed ahead.
    fn take(&self, bytes: &[u8]) -> Option<Result<Vec<u8>, BackhandError>> {
        let mut state = lock(&self.state);
        loop {
            let found = state.queue.iter().position(|slot| slot.input.as_slice() == bytes);
            if let Some(index) = found {
                // Anything queued before it was mispredicted: drop it.
                state.queue.drain(..index);
                let slot = state.queue.pop_front()?;
                self.changed.notify_all();
                drop(state);
                return slot.output.recv().ok();
            }
            if state.producer_done || state.stop || state.queue.len() >= self.capacity {
                return None;
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Reads the files in backhand's order and queues every block backhand
/// will compress. Read errors end the prediction; backhand reports them.
/// Every byte and file read is counted on `counter`.
pub fn produce(
    pipeline: &Pipeline,
    files: &[PathBuf],
    compressor: FilesystemCompressor,
    block_size: u32,
    counter: &Counter,
) {
    let bs = block_size as usize;
    let mut fragment: Vec<u8> = Vec::with_capacity(bs);
    'files: for path in files {
        let Ok(mut file) = File::open(path) else { break };
        let mut chunk = vec![0u8; bs];
        let Ok(n) = nix_repart_tree::read_full(&mut file, &mut chunk) else { break };
        counter.add_bytes(n as u64);
        counter.add_files(1);
        if n == 0 {
            continue;
        }
        if n != bs {
            if n + fragment.len() > bs && !pipeline.push(std::mem::take(&mut fragment), compressor, block_size) {
                return;
            }
            fragment.extend_from_slice(&chunk[..n]);
            continue;
        }
        let mut len = n;
        while len > 0 {
            chunk.truncate(len);
            if chunk.iter().any(|b| *b != 0) && !pipeline.push(chunk.clone(), compressor, block_size) {
                return;
            }
            chunk.resize(bs, 0);
            match nix_repart_tree::read_full(&mut file, &mut chunk) {
                Ok(n) => {
                    counter.add_bytes(n as u64);
                    len = n;
                }
                Err(_) => break 'files,
            }
        }
    }
    pipeline.push(fragment, compressor, block_size);
    pipeline.finish();
}

/// The pipeline backhand's compressor calls into, while a write runs.
static ACTIVE: Mutex<Option<Arc<Pipeline>>> = Mutex::new(None);

/// Blocks of the last write taken from the pipeline, and compressed inline.
static HITS: AtomicU64 = AtomicU64::new(0);
static MISSES: AtomicU64 = AtomicU64::new(0);

/// `(blocks compressed ahead, blocks compressed inline)` of the last write:
/// data blocks should all be ahead, metadata blocks are inline.
pub fn last_write_stats() -> (u64, u64) {
    (HITS.load(Ordering::Relaxed), MISSES.load(Ordering::Relaxed))
}

/// Runs `write` with `pipeline` active. One squashfs write at a time.
pub fn with_pipeline<T>(pipeline: Arc<Pipeline>, write: impl FnOnce() -> T) -> T {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    HITS.store(0, Ordering::Relaxed);
    MISSES.store(0, Ordering::Relaxed);
    *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&pipeline));
    let result = write();
    *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = None;
    pipeline.stop();
    result
}

/// A new pipeline of `capacity` blocks.
pub fn pipeline(capacity: usize) -> Arc<Pipeline> {
    Arc::new(Pipeline::new(capacity))
}

/// The compressor backhand gets: squashfs-tools' algorithms (backhand's
/// own), with results taken from the active pipeline when it has them.
pub struct PipelinedCompressor;

pub static PIPELINED: PipelinedCompressor = PipelinedCompressor;

impl CompressionAction for PipelinedCompressor {
    type Error = BackhandError;
    type Compressor = Compressor;
    type FilesystemCompressor = FilesystemCompressor;
    type SuperBlock = SuperBlock;

    fn decompress(&self, bytes: &[u8], out: &mut Vec<u8>, compressor: Compressor) -> Result<(), BackhandError> {
        DefaultCompressor.decompress(bytes, out, compressor)
    }

    fn compress(&self, bytes: &[u8], fc: FilesystemCompressor, block_size: u32) -> Result<Vec<u8>, BackhandError> {
        let active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(result) = active.and_then(|p| p.take(bytes)) {
            HITS.fetch_add(1, Ordering::Relaxed);
            return result;
        }
        MISSES.fetch_add(1, Ordering::Relaxed);
        DefaultCompressor.compress(bytes, fc, block_size)
    }

    fn compression_options(
        &self,
        superblock: &mut SuperBlock,
        kind: &backhand::kind::Kind,
        fs_compressor: FilesystemCompressor,
    ) -> Result<Option<Vec<u8>>, BackhandError> {
        DefaultCompressor.compression_options(superblock, kind, fs_compressor)
    }
}
