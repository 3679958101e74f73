//! The widget's memory allocator, smaller in the embed than the default
//! (dlmalloc): about 2.5 KB less gzipped, for a widget that allocates little
//! and lives as long as its page.
//!
//! Blocks come in power-of-two size classes of at least 16 bytes. Each class
//! keeps a list of its freed blocks (the link is stored in the block), so
//! `alloc` and `dealloc` take constant time; a class with none free takes a
//! fresh block from the end of the heap, which grows by whole wasm pages.
//! `realloc` within a class keeps the block (strings and vectors grow often).
//! A freed block is only reused by its own class, which costs at most the
//! peak memory of each class; wasm memory never shrinks anyway.

// Only the wasm build uses it (its tests run there too, in the browser).
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::null_mut;

/// Smallest block: room for the free-list link, and the alignment that
/// every block has.
const MIN_BLOCK: usize = 16;
const CLASSES: usize = usize::BITS as usize;
const PAGE: usize = 64 * 1024;

/// Where more memory comes from: `grow(bytes)` returns the start of at least
/// `bytes` new bytes, contiguous with the previous grant when possible.
type Grow = fn(usize) -> Option<(usize, usize)>;

struct Heap {
    free: [usize; CLASSES],
    /// The unused rest of the last grant.
    next: usize,
    end: usize,
    grow: Grow,
}

impl Heap {
    const fn new(grow: Grow) -> Heap {
        Heap {
            free: [0; CLASSES],
            next: 0,
            end: 0,
            grow,
        }
    }

    /// The class of a layout (the log2 of its block size), or None if no
    /// block could hold it.
    fn class(layout: Layout) -> Option<usize> {
        let size = layout.size().max(layout.align()).max(MIN_BLOCK);
        let block = size.checked_next_power_of_two()?;
        Some(block.trailing_zeros() as usize)
    }

    fn alloc(&mut self, layout: Layout) -> *mut u8 {
        let Some(class) = Self::class(layout) else {
            return null_mut();
        };
        // Freed blocks are only 16-aligned for sure: a stricter alignment
        // (rare) always gets a fresh block.
        let head = self.free[class];
        if head != 0 && layout.align() <= MIN_BLOCK {
            // SAFETY: `head` is a freed block of this class; its first word
            // holds the next free one (written by `dealloc`).
            self.free[class] = unsafe { *(head as *const usize) };
            return head as *mut u8;
        }
        self.fresh(1 << class, layout.align().max(MIN_BLOCK))
    }

    fn fresh(&mut self, size: usize, align: usize) -> *mut u8 {
        let start = (self.next + align - 1) & !(align - 1);
        if start >= self.next && start.checked_add(size).is_some_and(|e| e <= self.end) {
            self.next = start + size;
            return start as *mut u8;
        }
        let Some(want) = size
            .checked_add(align)
            .and_then(|n| n.checked_add(PAGE - 1))
        else {
            return null_mut();
        };
        let Some((at, len)) = (self.grow)(want & !(PAGE - 1)) else {
            return null_mut();
        };
        if at != self.end || self.end == 0 {
            // Not contiguous with the last grant: what was left there is
            // given up (a few bytes at most, usually).
            self.next = at;
        }
        self.end = at + len;
        let start = (self.next + align - 1) & !(align - 1);
        if start + size > self.end {
            return null_mut();
        }
        self.next = start + size;
        start as *mut u8
    }

    /// # Safety
    /// `ptr` was returned by `alloc` for `layout` and is not used again.
    unsafe fn dealloc(&mut self, ptr: *mut u8, layout: Layout) {
        let Some(class) = Self::class(layout) else {
            return;
        };
        // SAFETY: the block is ours again and at least 16 bytes long.
        unsafe { *(ptr as *mut usize) = self.free[class] };
        self.free[class] = ptr as usize;
    }
}

pub struct Allocator(UnsafeCell<Heap>);

// SAFETY: the widget runs on the page's one thread (wasm32 without threads).
unsafe impl Sync for Allocator {}

impl Allocator {
    pub const fn new() -> Allocator {
        Allocator(UnsafeCell::new(Heap::new(grow_memory)))
    }
}

#[cfg(target_arch = "wasm32")]
fn grow_memory(bytes: usize) -> Option<(usize, usize)> {
    let pages = bytes / PAGE;
    let before = core::arch::wasm32::memory_grow(0, pages);
    (before != usize::MAX).then_some((before * PAGE, pages * PAGE))
}

#[cfg(not(target_arch = "wasm32"))]
fn grow_memory(_bytes: usize) -> Option<(usize, usize)> {
    None
}

unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: one thread, and no allocator call re-enters another.
        unsafe { (*self.0.get()).alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above; the caller's contract is `Heap::dealloc`'s.
        unsafe { (*self.0.get()).dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let same_block = Layout::from_size_align(new_size, layout.align())
            .ok()
            .and_then(Heap::class)
            == Heap::class(layout);
        if same_block {
            return ptr;
        }
        // SAFETY: the default: a new block, the old contents, the old block freed.
        unsafe {
            let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
            if !new.is_null() {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    // Each test heap grows the real wasm memory, between the grants of the
    // tests' own (global) allocator: a grant that does not follow its last
    // one must be handled too.
    const GROW: Grow = grow_memory;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap_or(Layout::new::<u8>())
    }

    #[wasm_bindgen_test]
    fn blocks_are_aligned_distinct_and_reused_by_their_class() {
        let mut heap = Heap::new(GROW);
        let a = heap.alloc(layout(10, 1));
        let b = heap.alloc(layout(16, 8));
        let c = heap.alloc(layout(17, 8));
        assert!(![a, b, c].contains(&null_mut()));
        assert_eq!(a as usize % 16, 0);
        assert_eq!(b as usize - a as usize, 16, "16-byte class");
        assert_eq!(c as usize - b as usize, 16, "then a 32-byte block");
        unsafe { heap.dealloc(b, layout(16, 8)) };
        assert_eq!(heap.alloc(layout(12, 4)), b, "the freed block of its class");
        assert_ne!(heap.alloc(layout(12, 4)), b, "and only once");
        unsafe { heap.dealloc(c, layout(17, 8)) };
        let wide = heap.alloc(layout(20, 64));
        assert_eq!(
            wide as usize % 64,
            0,
            "a stricter alignment gets a fresh block"
        );
    }

    #[wasm_bindgen_test]
    fn the_heap_grows_by_pages_and_serves_big_blocks() {
        let mut heap = Heap::new(GROW);
        let big = heap.alloc(layout(200_000, 8));
        assert!(!big.is_null());
        // SAFETY: the block is 200,000 bytes (rounded up to 256 KiB).
        unsafe { big.add(199_999).write(7) };
        let mut blocks = Vec::new();
        for i in 1..2_000 {
            let p = heap.alloc(layout(i % 300 + 1, 8));
            assert!(!p.is_null());
            // SAFETY: at least one byte.
            unsafe { p.write(i as u8) };
            blocks.push((p, i));
        }
        for &(p, i) in &blocks {
            // SAFETY: still allocated; written above.
            assert_eq!(unsafe { p.read() }, i as u8, "no two blocks overlap");
        }
    }

    #[wasm_bindgen_test]
    fn no_memory_left_is_a_null_pointer() {
        let mut heap = Heap::new(|_| None);
        assert!(heap.alloc(layout(8, 8)).is_null());
    }
}
