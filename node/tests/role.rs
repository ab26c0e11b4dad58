//! What the cluster roles agree on before they start: the partition count, recorded on
//! the bus by the first member.

use aiex_node::bus::local::LocalBus;
use aiex_node::role::agree_on_partitions;

#[tokio::test]
async fn members_with_another_partition_count_are_refused_naming_the_cluster_s() {
    let tmp = tempfile::tempdir().unwrap();
    let bus = LocalBus::open(&tmp.path().join("bus.redb")).unwrap();
    agree_on_partitions(&bus, 64)
        .await
        .expect("the first member records 64");
    agree_on_partitions(&bus, 64)
        .await
        .expect("the same count is accepted");
    let err = agree_on_partitions(&bus, 16)
        .await
        .expect_err("another count is refused")
        .to_string();
    assert!(err.contains("created with 64 partitions"), "{err}");
    assert!(err.contains("--partitions 64"), "{err}");
    // The record survives a restart of the bus.
    drop(bus);
    let bus = LocalBus::open(&tmp.path().join("bus.redb")).unwrap();
    assert!(agree_on_partitions(&bus, 128).await.is_err());
    agree_on_partitions(&bus, 64).await.unwrap();
}
