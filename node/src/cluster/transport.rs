//! chitchat's UDP transport, counting the gossip bytes sent and received
//! (`aiex_cluster_gossip_bytes_total{direction}`): chitchat reports each datagram's size
//! to its transport but keeps no totals of its own.

use std::net::SocketAddr;

use async_trait::async_trait;
use chitchat::ChitchatEnvelope;
use chitchat::transport::{RecvOutcome, SendOutcome, Socket, Transport, UdpTransport};

pub struct MeteredUdpTransport;

#[async_trait]
impl Transport for MeteredUdpTransport {
    async fn open(&self, listen_addr: SocketAddr) -> anyhow::Result<Box<dyn Socket>> {
        let inner = UdpTransport.open(listen_addr).await?;
        Ok(Box::new(MeteredSocket(inner)))
    }
}

struct MeteredSocket(Box<dyn Socket>);

#[async_trait]
impl Socket for MeteredSocket {
    fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.0.local_addr()
    }

    async fn send(
        &mut self,
        to: SocketAddr,
        envelope: ChitchatEnvelope,
    ) -> anyhow::Result<SendOutcome> {
        let sent = self.0.send(to, envelope).await?;
        crate::metrics::gossip_bytes("sent", sent.num_bytes_sent);
        Ok(sent)
    }

    async fn recv(&mut self) -> anyhow::Result<RecvOutcome> {
        let received = self.0.recv().await?;
        crate::metrics::gossip_bytes("received", received.num_bytes_received);
        Ok(received)
    }
}
