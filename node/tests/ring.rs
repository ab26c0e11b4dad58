//! Partition placement: the same membership gives the same placement in every member,
//! replicas are distinct nodes other than the owner, no node owns more than 1.25 times
//! the mean, and one join or leave moves about 1/N of the partitions.
//!
//! Node ids are `aiex-node-{i}`, a StatefulSet's pod names, as in `ring-bench`
//! (bench/README.md, "Placement"), whose table shows the numbers these bounds are checked
//! against; ids without an ordinal (`aiex-node-{i}-x`) take the ring-only placement, which
//! keeps the balance but moves a little more than the leaving node's partitions.

use aiex_node::ring::{DEFAULT_REPLICATION, DEFAULT_VIRTUAL_NODES, Moves, NodeLoad, Placement};

// ------------------------------------------------------------------------------ helpers

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("aiex-node-{i}")).collect()
}

/// Ids without an ordinal (placed on the ring alone, with bounded loads).
fn named(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("aiex-node-{i}-x")).collect()
}

fn place<S: AsRef<str>>(members: &[S], partitions: u32) -> Placement {
    Placement::compute(
        members,
        partitions,
        DEFAULT_REPLICATION,
        DEFAULT_VIRTUAL_NODES,
    )
}

/// Partitions per node: 1/N of P.
fn mean(partitions: u32, n: usize) -> f64 {
    f64::from(partitions) / n as f64
}

/// The most any node may own: 5/4 of the mean, or the mean rounded up when 5/4 of it is
/// too small for every partition to fit.
fn cap(total: u32, n: usize) -> u32 {
    let n = n as u32;
    (total * 5 / (4 * n)).max(total.div_ceil(n))
}

/// A fixed pseudo-random shuffle (xorshift), so that failures reproduce.
fn shuffled(mut v: Vec<String>, seed: u64) -> Vec<String> {
    let mut x = seed | 1;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
    v
}

fn without(members: &[String], gone: &str) -> Vec<String> {
    members.iter().filter(|m| *m != gone).cloned().collect()
}

// -------------------------------------------------------------------------- determinism

#[test]
fn same_membership_gives_the_same_placement_in_any_order() {
    for n in [1, 2, 3, 7, 32] {
        let members = ids(n);
        let expected = place(&members, 256);
        let mut reversed = members.clone();
        reversed.reverse();
        let mut rotated = members.clone();
        rotated.rotate_left(n / 2);
        let mut duplicated = members.clone();
        duplicated.extend(members.iter().take(3).cloned());
        for (how, order) in [
            ("reversed", reversed),
            ("rotated", rotated),
            ("shuffled", shuffled(members.clone(), 7)),
            ("shuffled again", shuffled(members.clone(), 1234)),
            ("with duplicates", shuffled(duplicated, 99)),
        ] {
            assert_eq!(place(&order, 256), expected, "{n} nodes, {how}");
        }
        assert_eq!(place(&members, 256), expected, "{n} nodes, computed again");
        let mut sorted = members.clone();
        sorted.sort();
        assert_eq!(expected.members(), sorted.as_slice());
    }
}

#[test]
fn borrowed_and_owned_ids_place_alike() {
    let owned = ids(5);
    let borrowed: Vec<&str> = owned.iter().map(String::as_str).collect();
    assert_eq!(place(&owned, 64), place(&borrowed, 64));
}

// ----------------------------------------------------------------------------- replicas

#[test]
fn replicas_are_distinct_nodes_and_never_the_owner() {
    for n in 1..=12 {
        let members = ids(n);
        for replication in 1..=5 {
            let placement = Placement::compute(&members, 128, replication, 64);
            let copies = (replication as usize).min(n);
            for p in 0..128 {
                let owner = placement.owner(p).expect("every partition has an owner");
                let replicas = placement.replicas(p);
                assert_eq!(
                    replicas.len(),
                    copies - 1,
                    "{n} nodes, R={replication}, p={p}"
                );
                assert!(
                    !replicas.iter().any(|r| r == owner),
                    "owner {owner} replicates {p}"
                );
                let holders = placement.holders(p);
                assert_eq!(holders[0], owner);
                let mut distinct = holders.to_vec();
                distinct.sort();
                distinct.dedup();
                assert_eq!(
                    distinct.len(),
                    copies,
                    "a node holds {p} twice: {holders:?}"
                );
                assert!(holders.iter().all(|h| members.contains(h)));
            }
        }
    }
}

#[test]
fn more_copies_than_nodes_gives_every_node_every_partition() {
    let members = ids(3);
    let placement = Placement::compute(&members, 64, 5, DEFAULT_VIRTUAL_NODES);
    assert_eq!(placement.replication(), 5);
    for p in 0..64 {
        assert_eq!(placement.replicas(p).len(), 2, "R > N gives N-1 replicas");
    }
    for m in &members {
        assert_eq!(placement.held_by(m), (0..64).collect::<Vec<_>>());
    }
}

#[test]
fn zero_replication_and_zero_vnodes_count_as_one() {
    let placement = Placement::compute(&ids(4), 32, 0, 0);
    assert_eq!(placement.replication(), 1);
    for p in 0..32 {
        assert!(placement.owner(p).is_some());
        assert!(placement.replicas(p).is_empty());
    }
    assert_eq!(placement, Placement::compute(&ids(4), 32, 1, 1));
}

// --------------------------------------------------------------------------- edge cases

#[test]
fn no_members_means_no_owners() {
    let empty: [&str; 0] = [];
    let placement = place(&empty, 256);
    assert!(placement.is_empty());
    assert_eq!(placement.partitions(), 256);
    assert!(placement.members().is_empty());
    for p in [0, 1, 255, 256] {
        assert_eq!(placement.owner(p), None);
        assert!(placement.replicas(p).is_empty());
        assert!(placement.holders(p).is_empty());
    }
    assert!(placement.counts().is_empty());
    assert!(placement.owned_by("aiex-node-0").is_empty());
    assert!(placement.held_by("aiex-node-0").is_empty());

    // Nodes arriving in an empty cluster take every partition.
    let moves = Placement::diff(&placement, &place(&ids(1), 256));
    assert_eq!(moves.owner_changed, (0..256).collect::<Vec<_>>());
}

#[test]
fn partitions_out_of_range_have_no_holders() {
    let placement = place(&ids(3), 16);
    assert_eq!(placement.owner(16), None);
    assert!(placement.replicas(16).is_empty());
    assert!(placement.holders(u32::MAX).is_empty());
    assert!(place(&ids(3), 0).holders(0).is_empty());
}

#[test]
fn one_node_owns_everything_without_replicas() {
    let placement = place(&["solo"], 8);
    for p in 0..8 {
        assert_eq!(placement.owner(p), Some("solo"));
        assert!(placement.replicas(p).is_empty());
    }
    assert_eq!(
        placement.counts().get("solo"),
        Some(&NodeLoad {
            owned: 8,
            replicas: 0
        })
    );
}

#[test]
fn owned_held_and_counts_agree() {
    let members = ids(9);
    let placement = place(&members, 256);
    let counts = placement.counts();
    assert_eq!(
        counts.len(),
        9,
        "every member is counted, even with nothing"
    );
    let (mut owned, mut held) = (0, 0);
    for m in &members {
        let load = counts[m.as_str()];
        let mine = placement.owned_by(m);
        assert_eq!(mine.len() as u32, load.owned);
        assert_eq!(placement.held_by(m).len() as u32, load.held());
        assert!(mine.iter().all(|&p| placement.owner(p) == Some(m.as_str())));
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "ascending");
        owned += load.owned;
        held += load.held();
    }
    assert_eq!(owned, 256, "each partition has exactly one owner");
    assert_eq!(held, 512, "and one replica");
}

// ------------------------------------------------------------------------------ balance

#[test]
fn no_node_owns_more_than_a_quarter_above_the_mean() {
    for (partitions, members) in [64, 256, 1024]
        .into_iter()
        .flat_map(|p| (3..=32).flat_map(move |n| [(p, ids(n)), (p, named(n))]))
    {
        let n = members.len();
        {
            let placement = place(&members, partitions);
            let counts = placement.counts();
            let max_owned = counts.values().map(|l| l.owned).max().unwrap();
            let max_held = counts.values().map(|l| l.held()).max().unwrap();
            let ratio = f64::from(max_owned) / mean(partitions, n);
            assert!(
                max_owned <= cap(partitions, n),
                "P={partitions}, {n} nodes: a node owns {max_owned} (max/mean {ratio:.3})"
            );
            if partitions.div_ceil(n as u32) as f64 <= 1.25 * mean(partitions, n) {
                assert!(
                    ratio <= 1.25,
                    "P={partitions}, {n} nodes: max/mean {ratio:.3}"
                );
            } else {
                // P = 64 on 21 or 27..31 nodes: some node must own ceil(P/N), which is
                // more than 1.25 times the mean; the placement does no worse than that.
                assert_eq!(partitions, 64);
                assert_eq!(max_owned, partitions.div_ceil(n as u32));
            }
            assert!(
                max_held <= cap(2 * partitions, n),
                "P={partitions}, {n} nodes: a node holds {max_held} copies"
            );
        }
    }
}

// ----------------------------------------------------------------------------- movement

/// StatefulSet ids (`aiex-node-0` ...): a leave moves the leaving node's partitions and
/// nothing else, a join moves only what the newcomer takes, and every single change
/// moves at most 1.3/N of the partitions.
#[test]
fn with_ordinal_ids_every_change_moves_only_the_changed_nodes_partitions() {
    let cases = (3..=32)
        .map(|n| (256, n))
        .chain([8, 16, 32].map(|n| (1024, n)));
    for (partitions, n) in cases {
        {
            let members = ids(n);
            let before = place(&members, partitions);
            let unit = mean(partitions, n);
            for gone in &members {
                let after = place(&without(&members, gone), partitions);
                let moved = Placement::diff(&before, &after).owner_changed;
                assert_eq!(
                    moved,
                    before.owned_by(gone),
                    "P={partitions}, {n} nodes, {gone} leaves"
                );
                assert!(
                    moved.len() as f64 <= 1.3 * unit,
                    "P={partitions}, {n} nodes, {gone} leaves: {} move",
                    moved.len()
                );
            }
            let mut joined = members.clone();
            joined.push(format!("aiex-node-{n}"));
            let after = place(&joined, partitions);
            let moved = Placement::diff(&before, &after).owner_changed;
            assert_eq!(
                moved,
                after.owned_by(&joined[n]),
                "P={partitions}, {n} nodes join"
            );
            assert!(
                !moved.is_empty() && moved.len() as f64 <= 1.3 * unit,
                "P={partitions}, {n} nodes, one joins: {} move",
                moved.len()
            );
        }
    }
}

/// Pods that fail leave holes in the ordinals: each failure moves only the failed pod's
/// partitions (to the nodes clockwise with room), loads stay within the cap, and when
/// the pods come back each takes back only its own, ending where it began.
#[test]
fn failed_pods_leave_holes_and_coming_back_restores_the_placement() {
    let partitions = 256;
    let members = ids(16);
    let start = place(&members, partitions);
    let mut live = members.clone();
    let mut placement = start.clone();
    for gone in ["aiex-node-3", "aiex-node-9", "aiex-node-4", "aiex-node-15"] {
        live.retain(|m| m != gone);
        let next = place(&live, partitions);
        let moved = Placement::diff(&placement, &next).owner_changed;
        assert_eq!(moved, placement.owned_by(gone), "{gone} fails");
        let most = next.counts().values().map(|l| l.owned).max().unwrap();
        assert!(
            most <= cap(partitions, live.len()),
            "{gone} fails: a node owns {most}"
        );
        placement = next;
    }
    for back in ["aiex-node-15", "aiex-node-4", "aiex-node-9", "aiex-node-3"] {
        live.push(back.to_string());
        let next = place(&live, partitions);
        let moved = Placement::diff(&placement, &next).owner_changed;
        assert_eq!(moved, next.owned_by(back), "{back} comes back");
        placement = next;
    }
    assert_eq!(placement, start);
}

#[test]
fn a_leave_moves_the_leaving_nodes_partitions_and_few_others() {
    let partitions = 256;
    let mut mean_over_n = 0.0;
    for n in 3..=32 {
        let members = named(n);
        let before = place(&members, partitions);
        let unit = mean(partitions, n);
        let mut total = 0;
        for gone in &members {
            let after = place(&without(&members, gone), partitions);
            let Moves { owner_changed, .. } = Placement::diff(&before, &after);
            let owned = before.owned_by(gone);
            assert!(
                owned.iter().all(|p| owner_changed.contains(p)),
                "{n} nodes: a partition of {gone} kept its owner"
            );
            // Bounded loads: when the others' cap rises, nodes that were shedding take
            // partitions back, so a few partitions of other nodes move too.
            let extra = owner_changed.len() - owned.len();
            assert!(
                extra as f64 <= 1.5 * unit,
                "{n} nodes, {gone} leaves: {extra} partitions of other nodes move"
            );
            assert!(
                owner_changed.len() as f64 <= 2.5 * unit,
                "{n} nodes, {gone} leaves: {} partitions move ({:.2}/N)",
                owner_changed.len(),
                owner_changed.len() as f64 / unit
            );
            total += owner_changed.len();
        }
        mean_over_n += total as f64 / n as f64 / unit / 30.0;
    }
    assert!(
        mean_over_n <= 1.3,
        "a leave moves {mean_over_n:.3}/N on average"
    );
}

#[test]
fn a_join_moves_about_one_nth() {
    let partitions = 256;
    let mut mean_over_n = 0.0;
    for n in 3..=32 {
        let members = named(n);
        let before = place(&members, partitions);
        let mut joined = members.clone();
        joined.push(format!("aiex-node-{n}-x"));
        let after = place(&joined, partitions);
        let moved = Placement::diff(&before, &after).owner_changed.len();
        let unit = mean(partitions, n);
        let newcomer = after.owned_by(&joined[n]).len() as u32;
        assert!(
            newcomer > 0 && newcomer <= cap(partitions, n + 1),
            "{n} nodes"
        );
        assert!(
            moved as f64 <= 2.5 * unit,
            "{n} nodes, one joins: {moved} partitions move ({:.2}/N)",
            moved as f64 / unit
        );
        mean_over_n += moved as f64 / unit / 30.0;
    }
    assert!(
        mean_over_n <= 1.3,
        "a join moves {mean_over_n:.3}/N on average"
    );
}

#[test]
fn with_more_partitions_per_node_every_change_moves_little_more_than_one_nth() {
    let partitions = 1024;
    for n in [8, 16, 32] {
        let members = named(n);
        let before = place(&members, partitions);
        let unit = mean(partitions, n);
        for gone in &members {
            let after = place(&without(&members, gone), partitions);
            let moved = Placement::diff(&before, &after).owner_changed.len();
            assert!(
                moved as f64 <= 1.4 * unit,
                "P=1024, {n} nodes, {gone} leaves: {moved} move"
            );
        }
        let mut joined = members.clone();
        joined.push(format!("aiex-node-{n}-x"));
        let moved = Placement::diff(&before, &place(&joined, partitions))
            .owner_changed
            .len();
        assert!(
            moved as f64 <= 1.3 * unit,
            "P=1024, {n} nodes, one joins: {moved} move"
        );
    }
}

// --------------------------------------------------------------------------------- diff

#[test]
fn diff_names_the_partitions_whose_owner_or_replicas_changed() {
    let before = place(&ids(6), 128);
    assert!(Placement::diff(&before, &before).is_empty());

    let after = place(&ids(7), 128);
    let moves = Placement::diff(&before, &after);
    let owners: Vec<u32> = (0..128)
        .filter(|&p| before.owner(p) != after.owner(p))
        .collect();
    let replicas: Vec<u32> = (0..128)
        .filter(|&p| before.replicas(p) != after.replicas(p))
        .collect();
    assert_eq!(moves.owner_changed, owners);
    assert_eq!(moves.replicas_changed, replicas);
    assert!(!moves.owner_changed.is_empty());

    // Partitions that exist on one side only count as changed.
    let more = place(&ids(6), 130);
    let moves = Placement::diff(&before, &more);
    assert!(moves.owner_changed.ends_with(&[128, 129]), "{moves:?}");
    assert!(moves.replicas_changed.ends_with(&[128, 129]), "{moves:?}");
}
