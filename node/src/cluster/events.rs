//! The change stream: who joined, changed or left, as seen by this member.
//!
//! The cluster publishes its current view (live members by node id) on a watch
//! channel; each subscriber diffs the views it receives against the last one it saw. A
//! slow subscriber therefore never lags or loses a change: it sees several changes
//! folded into one step (a member that joined and left in between is never reported),
//! and always ends on the current view.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use tokio::sync::watch;

use super::member::Member;

/// Live members by node id. When two generations of one node id are live (a member
/// restarted before the old process was detected dead), the newer one is the member.
pub(crate) type MemberView = BTreeMap<String, Member>;

/// A change in the set of live members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberEvent {
    /// A member joined (or rejoined with a new generation).
    Added(Member),
    /// A live member changed its gossiped state (today: its readiness).
    Updated(Member),
    /// A member left: detected dead, or replaced by a newer generation of itself.
    Removed(Member),
}

impl MemberEvent {
    /// The member the event is about (its new state, or its last one when removed).
    pub fn member(&self) -> &Member {
        match self {
            MemberEvent::Added(member)
            | MemberEvent::Updated(member)
            | MemberEvent::Removed(member) => member,
        }
    }
}

/// The changes between two views, in node id order; a restarted member is `Removed`
/// (old generation) then `Added` (new generation).
pub(crate) fn diff(old: &MemberView, new: &MemberView) -> Vec<MemberEvent> {
    let mut events = Vec::new();
    for (node_id, before) in old {
        match new.get(node_id) {
            None => events.push(MemberEvent::Removed(before.clone())),
            Some(after) if after.generation != before.generation => {
                events.push(MemberEvent::Removed(before.clone()));
                events.push(MemberEvent::Added(after.clone()));
            }
            Some(after) if after != before => events.push(MemberEvent::Updated(after.clone())),
            Some(_) => {}
        }
    }
    for (node_id, after) in new {
        if !old.contains_key(node_id) {
            events.push(MemberEvent::Added(after.clone()));
        }
    }
    events
}

/// A subscription to membership changes, from [`super::Cluster::subscribe`].
///
/// It first yields `Added` for every member live when it was created (this member
/// included), then every change after. It ends (`None`) when the cluster shuts down or
/// its gossip stops.
pub struct MemberEvents {
    views: watch::Receiver<Arc<MemberView>>,
    seen: Arc<MemberView>,
    pending: VecDeque<MemberEvent>,
}

impl MemberEvents {
    pub(crate) fn new(mut views: watch::Receiver<Arc<MemberView>>) -> MemberEvents {
        let seen = views.borrow_and_update().clone();
        let pending = diff(&MemberView::new(), &seen).into();
        MemberEvents {
            views,
            seen,
            pending,
        }
    }

    /// The next change; waits for one.
    pub async fn next(&mut self) -> Option<MemberEvent> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            self.views.changed().await.ok()?;
            let view = self.views.borrow_and_update().clone();
            self.pending.extend(diff(&self.seen, &view));
            self.seen = view;
        }
    }
}
