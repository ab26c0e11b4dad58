//! Partition placement: which live node owns each partition, and which R-1 nodes keep a
//! replica of it.
//!
//! Every member computes the placement from the membership it sees (the live node ids
//! from gossip), the partition count P (fixed per cluster), the replication R and the
//! number of virtual nodes. Nothing about placement is gossiped: members that see the same
//! membership compute the same placement, whatever order they list the members in.
//!
//! # Algorithm
//!
//! 1. **Ring.** Each node id becomes `vnodes` virtual nodes `"{id}#{i}"` on a
//!    [`hashring::HashRing`] (the crate has no virtual nodes of its own). Partition `p`
//!    sits at the ring position of `"partition-{p}"`. Positions are SipHash with zero
//!    keys (`hashring::DefaultHashBuilder`), so every process computes the same ring.
//! 2. **Owners of a StatefulSet's pods: slots by ordinal.** When every member id is one
//!    base followed by an ordinal (`aiex-node-0`, `aiex-node-1`, ...: the pod names the
//!    chart's StatefulSet gives, up to ordinal 1023), ordinals 0 to the largest are
//!    slots. The partitions are dealt to the slots one slot at a time: slot 0 starts with
//!    them all, and slot `k` takes `floor(P/(k+1))` of them, each from the slot that has
//!    the most at that moment, the partitions chosen by a hash of the slot and the
//!    partition. Every slot then owns `floor` or `ceil` of P over the slots, and the deal
//!    of the first slots does not depend on the later ones. A slot's member owns its
//!    partitions. A slot with no live member (a pod that is down) is a hole: each of its
//!    partitions goes, in ring order, to the first node clockwise from the partition that
//!    has room under the cap below. So a scale-up adds the next slot and moves only what it
//!    takes, a scale-down or a failure moves only the leaving node's partitions, and a
//!    pod that comes back takes back only its own.
//! 3. **Owners of other ids: bounded loads on the ring.** A partition prefers the first
//!    node clockwise from its position (plain consistent hashing). A node keeps at most
//!    `cap = max(ceil(P/N), floor(5/4 * P/N))` of the partitions that prefer it, the ones
//!    nearest its virtual nodes (clockwise distance, then partition number). The
//!    partitions it sheds are then taken in ring order, and each walks on clockwise from
//!    the node it preferred to the first node that still has room. This is consistent
//!    hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, 2018) with the
//!    overflow decided after the preferences, so that the result does not depend on an
//!    arrival order.
//! 4. **Replicas** (both cases). Each further copy is placed on the ring, one layer at a
//!    time: a partition prefers the first node clockwise that does not hold it yet, and a
//!    node keeps such partitions while the partitions it holds in all layers so far stay
//!    within `max(ceil(k*P/N), floor(5/4 * k*P/N))` for `k` copies. Replicas are distinct
//!    physical nodes and never the owner; with fewer than R nodes every node holds every
//!    partition. The first replica is usually the node that owns the partition once the
//!    owner leaves (92% of the time at P = 256 with ordinals, 88% without), so a failover
//!    mostly finds its data already there.
//!
//! # What it guarantees, and what it costs
//!
//! - Balance, by construction: no node owns more than 1.25 times the mean P/N, or
//!   `ceil(P/N)` where that is more (P = 64 on 21 or 27..31 nodes: 1.25 cannot be met
//!   there by any placement). With ordinals and no holes every node owns `floor` or
//!   `ceil` of P/N (max/mean 1.00-1.09 at P = 256 on 3..32 nodes). All copies held (owner
//!   and replicas) obey the same bound for k copies, except that a replica for which
//!   every node without it is full stays with the node it preferred: possible only with
//!   few nodes per copy, and not seen for R = 2 on 3..32 nodes.
//! - Determinism: the members are sorted and deduplicated first; everything after depends
//!   on their ids only.
//! - Movement with ordinals (`ring-bench`, bench/README.md, "Placement"; 555 joins and
//!   leaves on 3..32 nodes): a leave moves exactly the leaving node's partitions, a join
//!   exactly what the newcomer takes; no change moves more than 1.09/N at P = 256 or
//!   1.03/N at P = 1024 (mean 1.00/N for a leave, 0.90/N for a join). Where a hole's
//!   partitions would put a node over the cap they walk on, which may move a partition of
//!   a hole again when the membership changes; scaling down the highest pod while a lower
//!   one is down also gives the lower hole's partitions back to the slots they came from.
//! - Movement without ordinals: a pure ring moves only the leaving node's partitions, but
//!   its loads vary like a Poisson count of P/N (the busiest node owns up to 1.9 times the
//!   mean at P = 256), and bounding them costs moves elsewhere: a leave raises the others'
//!   cap, so nodes that were shedding take partitions back. At P = 256 a leave moves
//!   1.24-1.27/N on average (up to 2.2/N) and about half the changes move more than 1.3/N;
//!   at P = 1024, 1.03/N on average and up to 1.38/N. A placement computed from ids not
//!   known in advance cannot promise both balance and movement: moving only the leaver's
//!   partitions on every leave means each partition follows a fixed order of preference
//!   over nodes, and such loads spread like a Poisson count. Ordinals are what make it
//!   possible: they say in which order the nodes were added.
//! - Cost: 0.13 ms on 3 nodes to 0.63 ms on 32 nodes (P = 256, R = 2, 128 virtual nodes,
//!   release build, on a shared 2-core machine), 2.4 ms at P = 1024 on 32 nodes. It runs
//!   once per membership change.
//! - Versions: members running builds that place differently (this one and one before
//!   ordinal slots) disagree on owners until they all run the same build: during such a
//!   rolling upgrade some partitions have no owner that agrees it owns them, and searches
//!   report them missing (partial results) until the rollout ends.
//!
//! A ring position is SipHash-2-4 with zero keys over the label's UTF-8 bytes followed by
//! one `0xff` byte (what `Hash for str` feeds `hashring`'s hasher). Pinned values in the
//! tests catch a change of either (a Rust or crate upgrade), which would re-home
//! partitions in a cluster that mixes versions.

pub mod follow;

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hash, Hasher};

use hashring::{DefaultHashBuilder, HashRing};

/// A node's id as members gossip it.
pub type NodeId = String;

/// Copies of each partition, the owner included, unless configured otherwise.
pub const DEFAULT_REPLICATION: u32 = 2;

/// Virtual nodes per node: 128 keep the arcs of the nodes within about 10% of each other.
pub const DEFAULT_VIRTUAL_NODES: u32 = 128;

/// More virtual nodes than this are placed as this many (configuration should reject
/// them): each costs two hashes per placement and the balance no longer improves.
pub const MAX_VIRTUAL_NODES: u32 = 4096;

/// The partition-to-node placement of one membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    partitions: u32,
    replication: u32,
    /// The members, sorted and without duplicates.
    members: Vec<NodeId>,
    /// Per partition: the owner, then its replicas. Empty when there are no members.
    holders: Vec<Vec<NodeId>>,
}

/// How many partitions a node owns and how many it replicates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeLoad {
    pub owned: u32,
    pub replicas: u32,
}

impl NodeLoad {
    /// Partitions held in any role.
    pub fn held(&self) -> u32 {
        self.owned + self.replicas
    }
}

/// What changed between two placements, as sorted partition numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moves {
    /// Partitions whose owner changed.
    pub owner_changed: Vec<u32>,
    /// Partitions whose set of replicas changed.
    pub replicas_changed: Vec<u32>,
}

impl Moves {
    pub fn is_empty(&self) -> bool {
        self.owner_changed.is_empty() && self.replicas_changed.is_empty()
    }
}

impl Placement {
    /// The placement of `partitions` partitions on `members` (node ids, in any order;
    /// duplicates count once) with `replication` copies of each partition, the owner
    /// included, and `vnodes` virtual nodes per node. `replication` and `vnodes` of 0 count
    /// as 1, `vnodes` above [`MAX_VIRTUAL_NODES`] as that. With no members no partition
    /// has an owner. P is fixed per cluster and small (hundreds to a few thousand): the
    /// placement lists the holders of every partition.
    pub fn compute<S: AsRef<str>>(
        members: &[S],
        partitions: u32,
        replication: u32,
        vnodes: u32,
    ) -> Placement {
        let mut ids: Vec<&str> = members.iter().map(AsRef::as_ref).collect();
        ids.sort_unstable();
        ids.dedup();
        let replication = replication.max(1);
        let holders = if ids.is_empty() || partitions == 0 {
            vec![Vec::new(); partitions as usize]
        } else {
            let prefixes: Vec<String> = ids.iter().map(|id| format!("{id}#")).collect();
            let ring = Ring::new(&prefixes, vnodes.clamp(1, MAX_VIRTUAL_NODES));
            let copies = replication.min(ids.len() as u32);
            let by_index = match ordinal_slots(&ids) {
                Some(slots) => place_by_ordinal(&ring, &slots, partitions, copies),
                None => place(&ring, partitions, copies),
            };
            by_index
                .into_iter()
                .map(|hs| hs.into_iter().map(|m| ids[m as usize].to_owned()).collect())
                .collect()
        };
        Placement {
            partitions,
            replication,
            members: ids.into_iter().map(str::to_owned).collect(),
            holders,
        }
    }

    /// The partition count P.
    pub fn partitions(&self) -> u32 {
        self.partitions
    }

    /// The copies asked for, owner included (fewer are placed when there are fewer nodes).
    pub fn replication(&self) -> u32 {
        self.replication
    }

    /// The members placed on, sorted, without duplicates.
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    /// True when there are no members, so no partition has an owner.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The owner of partition `p`; `None` without members or when `p >= P`.
    pub fn owner(&self, p: u32) -> Option<&str> {
        self.holders(p).first().map(String::as_str)
    }

    /// The replicas of partition `p`: up to R-1 nodes, distinct, never the owner; fewer
    /// when there are fewer than R members, none when `p >= P`.
    pub fn replicas(&self, p: u32) -> &[NodeId] {
        self.holders(p).get(1..).unwrap_or(&[])
    }

    /// The owner of partition `p` followed by its replicas.
    pub fn holders(&self, p: u32) -> &[NodeId] {
        self.holders.get(p as usize).map_or(&[], Vec::as_slice)
    }

    /// The partitions `node` owns, ascending.
    pub fn owned_by(&self, node: &str) -> Vec<u32> {
        self.partitions_where(|hs| hs.first().is_some_and(|o| o == node))
    }

    /// The partitions `node` holds as owner or replica, ascending.
    pub fn held_by(&self, node: &str) -> Vec<u32> {
        self.partitions_where(|hs| hs.iter().any(|h| h == node))
    }

    /// Owned and replicated partitions per member (every member, even with none).
    pub fn counts(&self) -> BTreeMap<&str, NodeLoad> {
        let mut counts: BTreeMap<&str, NodeLoad> = self
            .members
            .iter()
            .map(|m| (m.as_str(), NodeLoad::default()))
            .collect();
        for hs in &self.holders {
            for (i, h) in hs.iter().enumerate() {
                let load = counts.entry(h.as_str()).or_default();
                if i == 0 {
                    load.owned += 1;
                } else {
                    load.replicas += 1;
                }
            }
        }
        counts
    }

    /// The partitions whose owner, or whose set of replicas, differs between `old` and
    /// `new`. A partition that exists in only one of them counts as changed in both ways.
    pub fn diff(old: &Placement, new: &Placement) -> Moves {
        let mut moves = Moves::default();
        for p in 0..old.partitions.max(new.partitions) {
            if old.owner(p) != new.owner(p) {
                moves.owner_changed.push(p);
            }
            let (mut a, mut b) = (old.replicas(p).to_vec(), new.replicas(p).to_vec());
            a.sort_unstable();
            b.sort_unstable();
            if a != b || (p >= old.partitions) != (p >= new.partitions) {
                moves.replicas_changed.push(p);
            }
        }
        moves
    }

    fn partitions_where(&self, mut f: impl FnMut(&[NodeId]) -> bool) -> Vec<u32> {
        (0..self.partitions)
            .filter(|&p| f(self.holders(p)))
            .collect()
    }
}

// ----------------------------------------------------------------------------- the ring

/// A string `"{prefix}{number}"` hashed without being built: the bytes of both, then
/// `0xff`, as `Hash for str` writes them.
#[derive(Debug, Clone, Copy)]
struct Label<'a> {
    prefix: &'a str,
    number: u32,
}

impl Hash for Label<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // One `write` of the whole label when it fits on the stack: SipHash is streamed,
        // so this equals writing the pieces, and it is faster.
        let mut buf = [0u8; 64];
        let prefix = self.prefix.as_bytes();
        let mut digits = [0u8; 10];
        let mut at = digits.len();
        let mut n = self.number;
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let digits = &digits[at..];
        let len = prefix.len() + digits.len() + 1;
        if len <= buf.len() {
            buf[..prefix.len()].copy_from_slice(prefix);
            buf[prefix.len()..len - 1].copy_from_slice(digits);
            buf[len - 1] = 0xff;
            state.write(&buf[..len]);
        } else {
            state.write(prefix);
            state.write(digits);
            state.write_u8(0xff);
        }
    }
}

/// One virtual node: member `member`'s point on the ring labelled `label`.
#[derive(Debug, Clone, Copy)]
struct VirtualNode<'a> {
    label: Label<'a>,
    member: u32,
}

impl Hash for VirtualNode<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.label.hash(state);
    }
}

fn position_of(label: &Label<'_>) -> u64 {
    DefaultHashBuilder.hash_one(label)
}

/// The ring of virtual nodes, and the clockwise order that `HashRing` keeps to itself (it
/// answers only the first node for a key, or clones the whole ring per replica look-up).
struct Ring<'a> {
    lookup: HashRing<VirtualNode<'a>>,
    /// The virtual nodes in clockwise order: (position, member).
    order: Vec<(u64, u32)>,
    /// Where virtual node `i` of member `m` sits in `order`, at `m * vnodes + i`.
    index_of: Vec<u32>,
    vnodes: u32,
    members: usize,
}

impl<'a> Ring<'a> {
    /// The ring of the members whose `"{id}#"` prefixes are given, in member order.
    fn new(prefixes: &'a [String], vnodes: u32) -> Ring<'a> {
        // (position, member, number), sorted: the clockwise order. `HashRing` positions
        // its nodes by the same hash and sorts them stably, so handing them over in this
        // order makes its sort a single pass and keeps both orders equal, ties included.
        let mut points: Vec<(u64, u32, u32)> = Vec::with_capacity(prefixes.len() * vnodes as usize);
        for (member, prefix) in prefixes.iter().enumerate() {
            for number in 0..vnodes {
                points.push((
                    position_of(&Label { prefix, number }),
                    member as u32,
                    number,
                ));
            }
        }
        points.sort_unstable();
        let mut lookup = HashRing::new();
        lookup.batch_add(
            points
                .iter()
                .map(|&(_, member, number)| VirtualNode {
                    label: Label {
                        prefix: &prefixes[member as usize],
                        number,
                    },
                    member,
                })
                .collect(),
        );
        let mut index_of = vec![0u32; points.len()];
        for (at, &(_, member, number)) in points.iter().enumerate() {
            index_of[member as usize * vnodes as usize + number as usize] = at as u32;
        }
        Ring {
            lookup,
            order: points
                .iter()
                .map(|&(position, member, _)| (position, member))
                .collect(),
            index_of,
            vnodes,
            members: prefixes.len(),
        }
    }

    /// Partition `p`'s ring position and the index in `order` of the first virtual node
    /// at or after it.
    fn locate(&self, p: u32) -> (u64, usize) {
        let key = Label {
            prefix: "partition-",
            number: p,
        };
        let first = self.lookup.get(&key).expect("the ring has members");
        let at = self.index_of
            [first.member as usize * self.vnodes as usize + first.label.number as usize];
        (position_of(&key), at as usize)
    }

    /// Indices into `order` clockwise from `at` (included), once around.
    fn clockwise(&self, at: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.order.len()).map(move |k| (at + k) % self.order.len())
    }
}

// ------------------------------------------------------------------------ the placement

/// A partition that prefers a node: how far (clockwise) it sits before the node's virtual
/// node at `order[at]`.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    distance: u64,
    partition: u32,
    at: usize,
}

/// Most slots of the ordinal placement (see the module docs): ordinals up to 1023. A
/// member with a larger one sends the whole membership to the ring (the slots' cost grows
/// with P times the slots).
pub const MAX_ORDINAL_SLOTS: usize = 1024;

/// The slots of a membership whose ids are all one base followed by a decimal ordinal
/// (`aiex-node-0`, `aiex-node-1`, ...: a StatefulSet's pod names): per ordinal from 0 to
/// the largest, the index of the member that has it, or `None` (a hole: a pod that is
/// down, or was never there). `None` when any id has no ordinal, another base, an ordinal
/// with a leading zero, or an ordinal of [`MAX_ORDINAL_SLOTS`] or more.
fn ordinal_slots(ids: &[&str]) -> Option<Vec<Option<u32>>> {
    let mut base: Option<&str> = None;
    let mut ordinals: Vec<(usize, u32)> = Vec::with_capacity(ids.len());
    for (member, id) in ids.iter().enumerate() {
        let stem = id.trim_end_matches(|c: char| c.is_ascii_digit());
        let digits = &id[stem.len()..];
        if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
            return None;
        }
        let ordinal: usize = digits.parse().ok().filter(|&o| o < MAX_ORDINAL_SLOTS)?;
        match base {
            None => base = Some(stem),
            Some(b) if b == stem => {}
            Some(_) => return None,
        }
        ordinals.push((ordinal, member as u32));
    }
    let slots = ordinals.iter().map(|&(o, _)| o + 1).max()?;
    let mut out = vec![None; slots];
    for (ordinal, member) in ordinals {
        out[ordinal] = Some(member);
    }
    Some(out)
}

/// The base owner slot of every partition over `slots` slots, built one slot at a time:
/// slot 0 starts with every partition, and slot `k` then takes `floor(P/(k+1))` of them,
/// each from the slot that has the most at that moment (the lowest slot among equals),
/// choosing that slot's partition with the highest hash for `k`. After every step the
/// slots own `floor` or `ceil` of `P/(k+1)` each, and the placement of the first `k`
/// slots does not depend on the slots after them: adding the next slot moves only what
/// it takes, and removing the last slot gives its partitions back.
fn base_slots(slots: usize, partitions: u32) -> Vec<u32> {
    let mut owner = vec![0u32; partitions as usize];
    let mut owned: Vec<Vec<u32>> = Vec::with_capacity(slots);
    owned.push((0..partitions).collect());
    let mut score = vec![0u64; partitions as usize];
    for k in 1..slots {
        let prefix = format!("slot-{k}:");
        for (p, s) in score.iter_mut().enumerate() {
            *s = position_of(&Label {
                prefix: &prefix,
                number: p as u32,
            });
        }
        let take = partitions as usize / (k + 1);
        let mut mine = Vec::with_capacity(take);
        for _ in 0..take {
            let from = (0..k)
                .max_by_key(|&s| (owned[s].len(), std::cmp::Reverse(s)))
                .expect("slot 0 exists");
            let (at, _) = owned[from]
                .iter()
                .enumerate()
                .max_by_key(|&(_, &p)| (score[p as usize], p))
                .expect("the fullest slot owns partitions");
            let p = owned[from].swap_remove(at);
            owner[p as usize] = k as u32;
            mine.push(p);
        }
        owned.push(mine);
    }
    owner
}

/// [`place`] for a membership of ordinals ([`ordinal_slots`]): each partition's owner is
/// the member in its base slot ([`base_slots`] over ordinals 0 to the largest). The
/// partitions of a hole (an ordinal with no live member) go, in ring order, each to the
/// first node clockwise from it with room under the cap. Replicas are placed on the ring
/// as in [`place`]. So a node that leaves moves its own partitions and nothing else while
/// the caps allow, and a node that joins takes its share and nothing else moves.
fn place_by_ordinal(
    ring: &Ring<'_>,
    slots: &[Option<u32>],
    partitions: u32,
    copies: u32,
) -> Vec<Vec<u32>> {
    let base = base_slots(slots.len(), partitions);
    let starts: Vec<(u64, usize)> = (0..partitions).map(|p| ring.locate(p)).collect();
    let mut holders: Vec<Vec<u32>> = vec![Vec::with_capacity(copies as usize); starts.len()];
    let mut held = vec![0u32; ring.members];
    let mut orphans: Vec<u32> = Vec::new();
    for p in 0..partitions {
        match slots[base[p as usize] as usize] {
            Some(member) => {
                holders[p as usize].push(member);
                held[member as usize] += 1;
            }
            None => orphans.push(p),
        }
    }
    let cap = load_cap(partitions, ring.members, 1);
    orphans.sort_unstable_by_key(|&p| (starts[p as usize].0, p));
    for p in orphans {
        let start = starts[p as usize].1;
        let member = ring
            .clockwise(start)
            .map(|at| ring.order[at].1)
            .find(|&m| held[m as usize] < cap)
            .expect("the caps fit every partition");
        holders[p as usize].push(member);
        held[member as usize] += 1;
    }
    for k in 2..=copies {
        let cap = load_cap(partitions, ring.members, k);
        place_copy(ring, &starts, cap, &mut holders, &mut held);
    }
    holders
}

/// Per partition, the member indices of its owner and replicas (`copies` of them).
fn place(ring: &Ring<'_>, partitions: u32, copies: u32) -> Vec<Vec<u32>> {
    let starts: Vec<(u64, usize)> = (0..partitions).map(|p| ring.locate(p)).collect();
    let mut holders: Vec<Vec<u32>> = vec![Vec::with_capacity(copies as usize); starts.len()];
    let mut held = vec![0u32; ring.members];
    for k in 1..=copies {
        let cap = load_cap(partitions, ring.members, k);
        place_copy(ring, &starts, cap, &mut holders, &mut held);
    }
    holders
}

/// The most copies a node may hold when each partition has `copies` of them: 5/4 of the
/// mean, or the mean rounded up if that is more (so that they all fit).
fn load_cap(partitions: u32, members: usize, copies: u32) -> u32 {
    let total = u64::from(partitions) * u64::from(copies);
    let n = members as u64;
    (total * 5 / (4 * n)).max(total.div_ceil(n)) as u32
}

/// Adds one more copy of every partition: each goes to the first node clockwise that
/// does not hold it yet, unless that node is full (`held` reaching `cap`); a full node
/// keeps the partitions nearest its virtual nodes and the others walk on.
fn place_copy(
    ring: &Ring<'_>,
    starts: &[(u64, usize)],
    cap: u32,
    holders: &mut [Vec<u32>],
    held: &mut [u32],
) {
    let mut preferred: Vec<(u32, Candidate)> = Vec::with_capacity(starts.len());
    for (p, &(position, start)) in starts.iter().enumerate() {
        let hs = &holders[p];
        let at = ring
            .clockwise(start)
            .find(|&at| !hs.contains(&ring.order[at].1))
            .expect("fewer copies than members");
        let (vnode, member) = ring.order[at];
        let distance = vnode.wrapping_sub(position);
        preferred.push((
            member,
            Candidate {
                distance,
                partition: p as u32,
                at,
            },
        ));
    }
    // Per node, nearest first; a node keeps what fits under the cap.
    preferred.sort_unstable_by_key(|&(m, c)| (m, c.distance, c.partition));
    let mut shed = Vec::new();
    for group in preferred.chunk_by(|a, b| a.0 == b.0) {
        let member = group[0].0;
        let room = (cap.saturating_sub(held[member as usize]) as usize).min(group.len());
        for &(_, c) in &group[..room] {
            holders[c.partition as usize].push(member);
        }
        held[member as usize] += room as u32;
        shed.extend(group[room..].iter().map(|&(_, c)| c));
    }
    shed.sort_unstable_by_key(|c| (starts[c.partition as usize].0, c.partition));
    for c in shed {
        let hs = &holders[c.partition as usize];
        let member = ring
            .clockwise(c.at)
            .map(|at| ring.order[at].1)
            .find(|&m| held[m as usize] < cap && !hs.contains(&m))
            // Only a replica can find every node that lacks it full (few nodes, many
            // copies): it then stays with the node it preferred, over the cap.
            .unwrap_or(ring.order[c.at].1);
        holders[c.partition as usize].push(member);
        held[member as usize] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_hash_like_the_strings_they_spell() {
        let long = format!("{}#", "n".repeat(80));
        for (prefix, number) in [
            ("node-1#", 0),
            ("a#", 127),
            ("partition-", 4_294_967_295),
            (long.as_str(), 42),
        ] {
            let label = Label { prefix, number };
            let spelled = format!("{prefix}{number}");
            assert_eq!(
                position_of(&label),
                DefaultHashBuilder.hash_one(spelled.as_str())
            );
        }
    }

    #[test]
    fn ring_positions_are_pinned() {
        // SipHash-2-4, keys 0, over the label's bytes and 0xff, as computed by an
        // implementation written from the SipHash paper (not by Rust). Changing these
        // re-homes partitions between nodes that run different builds.
        let at = |prefix, number| position_of(&Label { prefix, number });
        assert_eq!(at("partition-", 0), 1_388_612_564_620_633_477);
        assert_eq!(at("partition-", 255), 8_484_656_792_029_911_686);
        assert_eq!(at("node-a#", 7), 16_852_154_307_304_326_711);
    }

    #[test]
    fn walk_order_matches_the_hashring_lookup() {
        let prefixes: Vec<String> = ["a#", "b#", "c#"].map(String::from).to_vec();
        let ring = Ring::new(&prefixes, 16);
        for p in 0..64 {
            let (position, at) = ring.locate(p);
            let before = if at == 0 {
                None
            } else {
                Some(ring.order[at - 1].0)
            };
            let wraps = position > ring.order.last().unwrap().0;
            assert!(wraps && at == 0 || ring.order[at].0 >= position, "{p}");
            assert!(wraps || before.is_none_or(|b| b < position), "{p}");
        }
    }

    #[test]
    fn ordinals_are_a_statefulsets_pod_names() {
        assert_eq!(
            ordinal_slots(&["aiex-node-0", "aiex-node-2", "aiex-node-3"]),
            Some(vec![Some(0), None, Some(1), Some(2)])
        );
        assert_eq!(
            ordinal_slots(&["n1", "n2"]),
            Some(vec![None, Some(0), Some(1)])
        );
        assert_eq!(ordinal_slots(&["aiex-node-7"]).map(|s| s.len()), Some(8));
        // Not one base with plain ordinals: the ring alone.
        assert_eq!(ordinal_slots(&["aiex-node-0", "other-1"]), None);
        assert_eq!(ordinal_slots(&["aiex-node-0", "aiex-node-x"]), None);
        assert_eq!(ordinal_slots(&["aiex-node-01"]), None);
        assert_eq!(ordinal_slots(&["aiex-node-1024"]), None);
        assert_eq!(ordinal_slots(&["aiex-node-99999999999999999999"]), None);
        assert_eq!(ordinal_slots(&[]), None);
        assert!(ordinal_slots(&["aiex-node-1023"]).is_some());
    }

    #[test]
    fn base_slots_stay_balanced_and_each_slot_only_takes() {
        for partitions in [1, 7, 64, 256, 1000] {
            let mut before = base_slots(1, partitions);
            assert!(before.iter().all(|&s| s == 0));
            for slots in 2..=40usize {
                let after = base_slots(slots, partitions);
                // The new slot takes floor(P/slots) and nothing else moves.
                let taken: Vec<usize> = (0..partitions as usize)
                    .filter(|&p| before[p] != after[p])
                    .collect();
                assert!(
                    taken.iter().all(|&p| after[p] as usize == slots - 1),
                    "P={partitions}, {slots} slots"
                );
                assert_eq!(taken.len(), partitions as usize / slots);
                let mut loads = vec![0u32; slots];
                for &s in &after {
                    loads[s as usize] += 1;
                }
                let (lo, hi) = (partitions / slots as u32, partitions.div_ceil(slots as u32));
                assert!(
                    loads.iter().all(|&l| l == lo || l == hi),
                    "P={partitions}, {slots} slots: {loads:?}"
                );
                before = after;
            }
        }
    }

    #[test]
    fn caps_fit_every_copy() {
        assert_eq!(load_cap(256, 32, 1), 10);
        assert_eq!(load_cap(64, 30, 1), 3); // 5/4 of 2.13 is 2, too small to fit 64
        assert_eq!(load_cap(256, 3, 2), 213);
        for n in 1..=64 {
            for k in 1..=3 {
                assert!(load_cap(256, n, k) as usize * n >= 256 * k as usize);
            }
        }
    }
}
