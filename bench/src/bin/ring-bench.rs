//! Partition placement (`aiex_node::ring`) for 3..32 nodes: balance, movement on one join
//! and on each possible leave, and the time to compute one placement.
//!
//! `cargo run --release -p aiex-bench --bin ring-bench -- [--partitions 256] [--replication 2]`
//!
//! Movement is counted in partitions whose owner changed, as a fraction of P and as a
//! multiple of 1/N, where N is the node count before the change: a join adds node N+1 to
//! N nodes, a leave removes one of the N (every one in turn; mean and worst shown).
use std::time::Instant;

use aiex_node::ring::{DEFAULT_REPLICATION, DEFAULT_VIRTUAL_NODES, Placement};
use clap::Parser;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 256)]
    partitions: u32,
    #[arg(long, default_value_t = DEFAULT_REPLICATION)]
    replication: u32,
    #[arg(long, default_value_t = DEFAULT_VIRTUAL_NODES)]
    vnodes: u32,
    #[arg(long, default_value_t = 3)]
    min_nodes: usize,
    #[arg(long, default_value_t = 32)]
    max_nodes: usize,
    /// Node ids are `{prefix}{i}{suffix}`.
    #[arg(long, default_value = "aiex-node-")]
    prefix: String,
    /// A suffix such as `-x` gives ids without an ordinal: the ring-only placement.
    #[arg(long, default_value = "")]
    suffix: String,
}

fn main() {
    let args = Args::parse();
    let p = args.partitions;
    let place = |members: &[String]| Placement::compute(members, p, args.replication, args.vnodes);
    println!(
        "P = {p}, R = {}, {} virtual nodes per node, node ids {}0{}, {}1{}, ...",
        args.replication, args.vnodes, args.prefix, args.suffix, args.prefix, args.suffix
    );
    println!(
        "| N | max/mean | min/mean | held max/mean | join: moved (of P, x 1/N) | leave: mean moved (of P, x 1/N) | leave: worst (of P, x 1/N) | leave: worst extra | replica sets changed, join / leave mean | compute |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let (mut events, mut over, mut leave_sum, mut join_sum, mut joins) = (0, 0, 0.0, 0.0, 0.0);
    let (mut failover_sum, mut failover_min) = (0.0, 1.0f64);
    for n in args.min_nodes..=args.max_nodes {
        let members: Vec<String> = (0..n)
            .map(|i| format!("{}{i}{}", args.prefix, args.suffix))
            .collect();
        let base = place(&members);
        let unit = f64::from(p) / n as f64; // partitions per node: 1/N of P
        let counts = base.counts();
        let owned = counts.values().map(|l| l.owned);
        let (max, min) = (owned.clone().max().unwrap(), owned.min().unwrap());
        let held_max = counts.values().map(|l| l.held()).max().unwrap();
        let copies = args.replication.clamp(1, n as u32);

        let mut joined = members.clone();
        joined.push(format!("{}{n}{}", args.prefix, args.suffix));
        let join = Placement::diff(&base, &place(&joined));
        let join_moved = join.owner_changed.len() as f64;
        join_sum += join_moved / unit;
        joins += 1.0;
        events += 1;
        over += usize::from(join_moved > 1.3 * unit);

        let (mut sum, mut worst, mut worst_extra, mut repl_sum) = (0.0, 0.0f64, 0usize, 0.0);
        let (mut orphaned, mut to_replica) = (0usize, 0usize);
        for gone in &members {
            let rest: Vec<String> = members.iter().filter(|m| *m != gone).cloned().collect();
            let after = place(&rest);
            let moves = Placement::diff(&base, &after);
            for q in base.owned_by(gone) {
                orphaned += 1;
                let first_replica = base.replicas(q).first().map(String::as_str);
                to_replica +=
                    usize::from(first_replica.is_some() && after.owner(q) == first_replica);
            }
            let moved = moves.owner_changed.len();
            let extra = moves
                .owner_changed
                .iter()
                .filter(|&&q| base.owner(q) != Some(gone.as_str()))
                .count();
            sum += moved as f64;
            worst = worst.max(moved as f64);
            worst_extra = worst_extra.max(extra);
            repl_sum += moves.replicas_changed.len() as f64;
            events += 1;
            over += usize::from(moved as f64 > 1.3 * unit);
        }
        let mean = sum / n as f64;
        leave_sum += mean / unit;
        let failover = to_replica as f64 / orphaned as f64;
        (failover_sum, failover_min) = (failover_sum + failover, failover_min.min(failover));

        // Median of 201 runs, wall clock and this thread's CPU time (the machine is shared:
        // CPU time leaves out the time other processes held the core).
        let runs = 201;
        let (mut wall, mut cpu): (Vec<f64>, Vec<f64>) = (0..runs)
            .map(|_| {
                let (t, c) = (Instant::now(), thread_cpu_seconds());
                std::hint::black_box(place(std::hint::black_box(&members)));
                (t.elapsed().as_secs_f64(), thread_cpu_seconds() - c)
            })
            .unzip();
        wall.sort_by(f64::total_cmp);
        cpu.sort_by(f64::total_cmp);
        let pf = f64::from(p);
        println!(
            "| {n} | {:.3} | {:.3} | {:.3} | {:.0} ({:.3}, {:.2}) | {:.1} ({:.3}, {:.2}) | {:.0} ({:.3}, {:.2}) | {} | {} / {:.1} | {:.0} us ({:.0} us CPU) |",
            f64::from(max) / unit,
            f64::from(min) / unit,
            f64::from(held_max) / (unit * f64::from(copies)),
            join_moved,
            join_moved / pf,
            join_moved / unit,
            mean,
            mean / pf,
            mean / unit,
            worst,
            worst / pf,
            worst / unit,
            worst_extra,
            join.replicas_changed.len(),
            repl_sum / n as f64,
            wall[runs / 2] * 1e6,
            cpu[runs / 2] * 1e6,
        );
    }
    let rows = (args.max_nodes + 1 - args.min_nodes) as f64;
    println!(
        "mean over N: join moves {:.3}/N, leave moves {:.3}/N; {over} of {events} joins and leaves move more than 1.3/N",
        join_sum / joins,
        leave_sum / rows,
    );
    if args.replication > 1 {
        println!(
            "a leaving node's partitions go to their first replica: {:.0}% on average over N, at least {:.0}% for every N",
            100.0 * failover_sum / rows,
            100.0 * failover_min,
        );
    }
}

fn thread_cpu_seconds() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for clock_gettime to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}
