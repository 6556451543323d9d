//! Cache blocks chosen at run time from the caches this CPU reports.
//!
//! The loop nest of `blocked.rs` works on a `KC x NC` panel of `op(B)` (packed, or read in
//! place) and an `MC x KC` block of `op(A)`, and the microkernel streams one `KC x NR` sliver
//! of B against `MR x KC` slivers of A. How large each may be depends on the machine, not on
//! the kernel alone: L2 runs from 256 KiB to 2 MiB; L3 from none to hundreds of MiB shared by
//! many cores (the L1d, 32 or 48 KiB on the cores we know, is read and reported but no longer
//! bounds a block: see [`Blocking::derive`]). So the sizes are read once per process ([`CacheSizes::detected`]:
//! CPUID leaf 4 on Intel, 0x8000001D on AMD, else `/sys/devices/system/cpu/cpu0/cache`, else
//! [`CacheSizes::FALLBACK`]) and the blocks derived from them by [`Blocking::derive`], a pure
//! function of the sizes and the tile, tested on several machines' caches below.
//!
//! The blocks never depend on the thread count, so results stay bit-identical for any number
//! of threads; they do depend on the machine (`KC` fixes where the sum is split into blocks).

use std::fmt;
use std::sync::OnceLock;

/// Bytes per element of every packed operand (`f32`).
const ELEMENT: usize = std::mem::size_of::<f32>();

/// The data caches of one core, in bytes, as blocking sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheSizes {
    /// Level-1 data cache of one core.
    pub l1d: usize,
    /// Level-2 cache of one core.
    pub l2: usize,
    /// Level-3 cache, if any (the whole cache, shared by `l3_sharing` logical CPUs).
    pub l3: Option<usize>,
    /// Logical CPUs that share the L3 (at least 1).
    pub l3_sharing: usize,
    /// Where the sizes came from.
    pub source: CacheSource,
}

/// Where [`CacheSizes`] came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheSource {
    /// CPUID leaf 4 (Intel's deterministic cache parameters).
    CpuidLeaf4,
    /// CPUID leaf 0x8000001D (AMD's cache topology, same layout as leaf 4).
    CpuidLeaf8000001D,
    /// `/sys/devices/system/cpu/cpu0/cache/index*/`.
    Sysfs,
    /// Nothing could be read: [`CacheSizes::FALLBACK`].
    Fallback,
}

impl CacheSizes {
    /// What blocking assumes when the CPU reports nothing: the smallest caches of the x86-64
    /// cores of the last decade (32 KiB L1d, 256 KiB L2, no L3 counted on), so the blocks fit
    /// anywhere, at some cost in speed on larger caches.
    pub const FALLBACK: CacheSizes = CacheSizes {
        l1d: 32 << 10,
        l2: 256 << 10,
        l3: None,
        l3_sharing: 1,
        source: CacheSource::Fallback,
    };

    /// The caches of this CPU, read once per process.
    pub fn detected() -> CacheSizes {
        static DETECTED: OnceLock<CacheSizes> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            let sizes = cpuid::read().or_else(sysfs::read).unwrap_or(Self::FALLBACK);
            // A process may run on fewer CPUs than share the L3 (a VM, a cgroup): count only
            // those that can compete for it here.
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
            CacheSizes {
                l3_sharing: sizes.l3_sharing.clamp(1, cpus.max(1)),
                ..sizes
            }
        })
    }

    /// The sizes from a list of `(level, kind, bytes, sharing)` entries, as both CPUID and
    /// sysfs describe caches; `None` without a usable L1d and L2.
    fn from_entries(entries: &[CacheEntry], source: CacheSource) -> Option<CacheSizes> {
        let find = |level: u8| {
            entries
                .iter()
                .find(|e| e.level == level && e.holds_data && e.bytes > 0)
        };
        let l1d = find(1)?.bytes;
        let l2 = find(2)?.bytes;
        let l3 = find(3);
        Some(CacheSizes {
            l1d,
            l2,
            l3: l3.map(|e| e.bytes),
            l3_sharing: l3.map_or(1, |e| e.sharing.max(1)),
            source,
        })
    }
}

/// One cache as CPUID or sysfs describes it.
#[derive(Clone, Copy, Debug)]
struct CacheEntry {
    level: u8,
    /// Data or unified (instruction caches are skipped).
    holds_data: bool,
    bytes: usize,
    /// Logical CPUs sharing it.
    sharing: usize,
}

/// The register tile of a microkernel: `MR x NR` elements of C.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    /// Rows of C in registers.
    pub mr: usize,
    /// Columns of C in registers.
    pub nr: usize,
}

/// The three cache blocks of the loop nest (see the module docs of `linalg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocking {
    /// Steps of the sum per packed block.
    pub kc: usize,
    /// Rows of `op(A)` per packed block (a multiple of `MR`).
    pub mc: usize,
    /// Columns of `op(B)` per packed panel (a multiple of `NR`).
    pub nc: usize,
}

/// Bounds on the derived blocks: below `KC_MIN` the C tile is read and written too often per
/// multiply-add; at `KC_MAX` that costs under 2% of a tile's time and deeper blocks only grow
/// the buffers; `NC_MAX` bounds the packing buffer (a few MiB) when the L3 is huge.
const KC_MIN: usize = 64;
const KC_MAX: usize = 512;
const NC_MAX: usize = 8192;

impl Blocking {
    /// The blocks for `tile` on a CPU with `caches`, by the rule:
    ///
    /// - **KC**: as deep as the `KC x NR` sliver of B can stream from L2: at most a quarter of
    ///   L2, within `64..=512`, rounded down to a multiple of 16 (whole cache lines). Each
    ///   depth block loads and stores every C tile once, a miss to L2 or L3 per line, so deeper
    ///   is cheaper; the sliver need not stay in L1d, since a step reads one `NR`-wide row of
    ///   it (128 bytes for 8 x 32) per `MR x NR / lanes` FMAs (16 cycles' worth of two 512-bit
    ///   pipes), an eighth of what L2 delivers per cycle on the cores we know. Measured on Zen 5
    ///   (square 512, one thread): KC 512 ran 7% faster than 192, the deepest sliver that fits
    ///   half of its 48 KiB L1d.
    /// - **MC**: the `MC x KC` block of A, reused by every B sliver of the panel, fills at most
    ///   half of L2, leaving the rest to the B sliver streaming through and to C. Rounded down
    ///   to a multiple of `MR`.
    /// - **NC**: the `KC x NC` panel of B, reused by every A block, fills at most half of this
    ///   core's share of L3 (its size over the CPUs sharing it), the other half left to A and
    ///   C streaming through; without an L3 it is sized to L2, since it then streams from
    ///   memory once per A block anyway. Rounded down to a multiple of `NR`, at most 8192.
    ///
    /// ```
    /// # #[cfg(feature = "internals")] {
    /// use nninit::linalg::{Blocking, CacheSizes, Tile};
    /// let zen5 = CacheSizes { l1d: 48 << 10, l2: 1 << 20, l3: Some(32 << 20), l3_sharing: 16, ..CacheSizes::FALLBACK };
    /// let blocks = Blocking::derive(&zen5, Tile { mr: 8, nr: 32 });
    /// assert_eq!((blocks.kc, blocks.mc, blocks.nc), (512, 256, 512));
    /// # }
    /// ```
    pub fn derive(caches: &CacheSizes, tile: Tile) -> Blocking {
        let (mr, nr) = (tile.mr.max(1), tile.nr.max(1));
        let kc = (caches.l2 / 4 / (nr * ELEMENT) / 16 * 16).clamp(KC_MIN, KC_MAX);
        let mc = (caches.l2 / 2 / (kc * ELEMENT) / mr * mr).max(mr);
        let panel_bytes = match caches.l3 {
            Some(l3) => l3 / caches.l3_sharing.max(1) / 2,
            None => caches.l2,
        };
        let nc = (panel_bytes / (kc * ELEMENT) / nr * nr).clamp(nr, NC_MAX / nr * nr);
        Blocking { kc, mc, nc }
    }

    /// The blocks for `tile` on this CPU (from [`CacheSizes::detected`]).
    pub fn for_this_cpu(tile: Tile) -> Blocking {
        Blocking::derive(&CacheSizes::detected(), tile)
    }
}

impl fmt::Display for CacheSizes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "L1d {} KiB, L2 {} KiB, ", self.l1d >> 10, self.l2 >> 10)?;
        match self.l3 {
            Some(l3) => write!(f, "L3 {} KiB shared by {} cpus", l3 >> 10, self.l3_sharing)?,
            None => write!(f, "no L3")?,
        }
        write!(f, " (from {:?})", self.source)
    }
}

#[cfg(target_arch = "x86_64")]
mod cpuid {
    //! CPUID leaves 4 (Intel) and 0x8000001D (AMD): one sub-leaf per cache, same layout.

    use super::{CacheEntry, CacheSizes, CacheSource};
    use std::arch::x86_64::{__cpuid_count, CpuidResult};

    /// Sub-leaves beyond this are not caches on any CPU we know (there are four or five).
    const MAX_SUBLEAVES: u32 = 16;

    /// CPUID `(leaf, sub_leaf)`.
    // CPUID exists on every x86-64 CPU; the intrinsic is `unsafe` before Rust 1.94 only.
    #[allow(unused_unsafe)]
    fn cpuid(leaf: u32, sub_leaf: u32) -> CpuidResult {
        // SAFETY: the CPUID instruction is part of x86-64 and has no preconditions.
        unsafe { __cpuid_count(leaf, sub_leaf) }
    }

    pub(super) fn read() -> Option<CacheSizes> {
        let vendor = cpuid(0, 0);
        let name = [vendor.ebx, vendor.edx, vendor.ecx]
            .map(u32::to_le_bytes)
            .concat();
        let (leaf, source) = match name.as_slice() {
            b"GenuineIntel" if vendor.eax >= 4 => (4, CacheSource::CpuidLeaf4),
            b"AuthenticAMD" | b"HygonGenuine" if amd_topology_extensions() => {
                (0x8000_001D, CacheSource::CpuidLeaf8000001D)
            }
            _ => return None,
        };
        let entries: Vec<CacheEntry> = (0..MAX_SUBLEAVES)
            .map(|sub_leaf| cpuid(leaf, sub_leaf))
            .take_while(|r| r.eax & 0x1F != 0)
            .map(entry)
            .collect();
        CacheSizes::from_entries(&entries, source)
    }

    /// Whether leaf 0x8000001D exists (the TopologyExtensions bit, CPUID 0x80000001 ECX 22).
    fn amd_topology_extensions() -> bool {
        cpuid(0x8000_0000, 0).eax >= 0x8000_001D && cpuid(0x8000_0001, 0).ecx & (1 << 22) != 0
    }

    /// Decodes one sub-leaf: type in EAX[4:0] (1 data, 2 instruction, 3 unified), level in
    /// EAX[7:5], sharing CPUs - 1 in EAX[25:14]; line size - 1 in EBX[11:0], partitions - 1 in
    /// EBX[21:12], ways - 1 in EBX[31:22]; sets - 1 in ECX.
    fn entry(r: CpuidResult) -> CacheEntry {
        let field =
            |value: u32, shift: u32, bits: u32| ((value >> shift) & ((1 << bits) - 1)) as usize + 1;
        let bytes = field(r.ebx, 0, 12)
            * field(r.ebx, 12, 10)
            * field(r.ebx, 22, 10)
            * (r.ecx as usize + 1);
        CacheEntry {
            level: ((r.eax >> 5) & 0x7) as u8,
            holds_data: r.eax & 0x1F != 2,
            bytes,
            sharing: field(r.eax, 14, 12),
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod cpuid {
    pub(super) fn read() -> Option<super::CacheSizes> {
        None
    }
}

mod sysfs {
    //! `/sys/devices/system/cpu/cpu0/cache/index*/{level,type,size,shared_cpu_list}` (Linux).

    use super::{CacheEntry, CacheSizes, CacheSource};

    const ROOT: &str = "/sys/devices/system/cpu/cpu0/cache";

    pub(super) fn read() -> Option<CacheSizes> {
        let entries: Vec<CacheEntry> = std::fs::read_dir(ROOT)
            .ok()?
            .filter_map(|dir| entry(&dir.ok()?.path()))
            .collect();
        CacheSizes::from_entries(&entries, CacheSource::Sysfs)
    }

    fn entry(dir: &std::path::Path) -> Option<CacheEntry> {
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
        Some(CacheEntry {
            level: read("level")?.trim().parse().ok()?,
            holds_data: read("type")?.trim() != "Instruction",
            bytes: parse_size(&read("size")?)?,
            sharing: read("shared_cpu_list").map_or(1, |list| count_cpus(&list)),
        })
    }

    /// `"48K"`, `"1024K"`, `"32M"` or plain bytes.
    pub(super) fn parse_size(text: &str) -> Option<usize> {
        let text = text.trim();
        let (digits, unit) = match text.as_bytes().last()? {
            b'K' => (&text[..text.len() - 1], 1 << 10),
            b'M' => (&text[..text.len() - 1], 1 << 20),
            b'G' => (&text[..text.len() - 1], 1 << 30),
            _ => (text, 1),
        };
        digits.parse::<usize>().ok()?.checked_mul(unit)
    }

    /// CPUs in a list such as `"0-3,8-11"`.
    pub(super) fn count_cpus(list: &str) -> usize {
        list.trim()
            .split(',')
            .filter_map(|range| match range.split_once('-') {
                Some((first, last)) => {
                    let (first, last) = (first.parse::<usize>().ok()?, last.parse::<usize>().ok()?);
                    last.checked_sub(first).map(|span| span + 1)
                }
                None => range.parse::<usize>().ok().map(|_| 1),
            })
            .sum::<usize>()
            .max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AVX512_TILE: Tile = Tile { mr: 8, nr: 32 };
    const AVX2_TILE: Tile = Tile { mr: 6, nr: 16 };

    fn caches(l1d_kib: usize, l2_kib: usize, l3: Option<(usize, usize)>) -> CacheSizes {
        CacheSizes {
            l1d: l1d_kib << 10,
            l2: l2_kib << 10,
            l3: l3.map(|(mib, _)| mib << 20),
            l3_sharing: l3.map_or(1, |(_, sharing)| sharing),
            source: CacheSource::Sysfs,
        }
    }

    /// Machines seen here, worked by hand from the rule in [`Blocking::derive`].
    #[test]
    fn blocks_follow_the_rule_on_known_machines() {
        let cases = [
            // Zen 4 core (EPYC 9004): 32 KiB L1d, 1 MiB L2, 32 MiB L3 per 16-thread CCX.
            // KC = 256 KiB / 128 B = 2048 -> 512; MC = 512 KiB / 2 KiB = 256;
            // NC = 1 MiB / 2 KiB = 512.
            (
                caches(32, 1024, Some((32, 16))),
                AVX512_TILE,
                (512, 256, 512),
            ),
            // Zen 5 (EPYC 9005) as seen by a 2-cpu VM: 48 KiB L1d, 1 MiB L2, 32 MiB L3 over 2.
            // KC = 512; MC = 256; NC = 8 MiB / 2 KiB = 4096.
            (
                caches(48, 1024, Some((32, 2))),
                AVX512_TILE,
                (512, 256, 4096),
            ),
            // Ice Lake server: 48 KiB L1d, 1.25 MiB L2, 48 MiB L3 over 64 threads.
            // KC = 320 KiB / 128 B -> 512; MC = 640 KiB / 2 KiB = 320; NC = 384 KiB / 2 KiB = 192.
            (
                caches(48, 1280, Some((48, 64))),
                AVX512_TILE,
                (512, 320, 192),
            ),
            // Skylake client with AVX2: 32 KiB L1d, 256 KiB L2, 8 MiB L3 over 8 threads.
            // KC = 64 KiB / 64 B = 1024 -> 512; MC = 128 KiB / 2 KiB = 64 (a multiple of 6:
            // 60); NC = 512 KiB / 2 KiB = 256.
            (caches(32, 256, Some((8, 8))), AVX2_TILE, (512, 60, 256)),
            // A small L2 bounds KC: 128 KiB / 4 / 128 B = 256; MC = 64 KiB / 1 KiB = 64.
            (caches(32, 128, Some((8, 8))), AVX512_TILE, (256, 64, 512)),
            // No L3 (some embedded parts): the panel is sized to L2.
            // KC = 512; MC = 256 KiB / 2 KiB = 128; NC = 512 KiB / 2 KiB = 256.
            (caches(32, 512, None), AVX512_TILE, (512, 128, 256)),
        ];
        for (caches, tile, (kc, mc, nc)) in cases {
            assert_eq!(
                Blocking::derive(&caches, tile),
                Blocking { kc, mc, nc },
                "{caches}, {tile:?}"
            );
        }
    }

    /// Nothing readable: the fallback gives blocks that fit the smallest caches.
    #[test]
    fn fallback_blocks_fit_small_caches() {
        let blocks = Blocking::derive(&CacheSizes::FALLBACK, AVX512_TILE);
        // KC = 64 KiB / 128 B; MC = 128 KiB / 2 KiB; NC = 256 KiB / 2 KiB.
        assert_eq!(
            blocks,
            Blocking {
                kc: 512,
                mc: 64,
                nc: 128
            }
        );
        assert!(blocks.kc * AVX512_TILE.nr * ELEMENT <= CacheSizes::FALLBACK.l2 / 4);
        assert!(blocks.mc * blocks.kc * ELEMENT <= CacheSizes::FALLBACK.l2 / 2);
    }

    /// Absurd sizes (zero, huge) still give usable blocks: every block at least one tile, KC
    /// within its bounds, MC and NC whole tiles.
    #[test]
    fn extreme_sizes_give_usable_blocks() {
        for l1d in [0, 1, 4 << 10, 1 << 30] {
            for l2 in [0, 1 << 20, 1 << 34] {
                for l3 in [None, Some(0), Some(1 << 40)] {
                    for tile in [AVX512_TILE, AVX2_TILE, Tile { mr: 4, nr: 8 }] {
                        let sizes = CacheSizes {
                            l1d,
                            l2,
                            l3,
                            l3_sharing: 3,
                            source: CacheSource::Fallback,
                        };
                        let b = Blocking::derive(&sizes, tile);
                        assert!((KC_MIN..=KC_MAX).contains(&b.kc), "{b:?}");
                        assert!(b.mc >= tile.mr && b.mc.is_multiple_of(tile.mr), "{b:?}");
                        assert!(
                            b.nc >= tile.nr && b.nc.is_multiple_of(tile.nr) && b.nc <= NC_MAX,
                            "{b:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn sysfs_sizes_and_cpu_lists_parse() {
        assert_eq!(sysfs::parse_size("48K\n"), Some(48 << 10));
        assert_eq!(sysfs::parse_size("32M"), Some(32 << 20));
        assert_eq!(sysfs::parse_size("512"), Some(512));
        assert_eq!(sysfs::parse_size("lots"), None);
        assert_eq!(sysfs::count_cpus("0-1\n"), 2);
        assert_eq!(sysfs::count_cpus("0-3,8-11"), 8);
        assert_eq!(sysfs::count_cpus("5"), 1);
    }

    /// Whatever this machine reports, it is plausible (or the fallback).
    #[test]
    fn detected_sizes_are_plausible() {
        let sizes = CacheSizes::detected();
        assert!((4 << 10..=1 << 20).contains(&sizes.l1d), "{sizes}");
        assert!(sizes.l2 >= sizes.l1d, "{sizes}");
        assert!(sizes.l3_sharing >= 1);
    }
}
