//! Messages the visitor wrote that the room has not acknowledged yet.
//!
//! Each keeps the client id it was created with, so sending it again after a
//! reconnect is recognised by the room as a retry and stored once. One message
//! is in flight at a time: the next goes out when the previous one is acked,
//! which keeps the room's order equal to the order they were typed in.

use crate::error::ProtocolError;

#[derive(Debug, Clone, PartialEq)]
pub enum OutboxState {
    /// Waiting for the connection or for the room's ack.
    Pending,
    /// Refused by the room for good (too long, bad text...); the visitor may retry or discard it.
    Failed(ProtocolError),
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub id: String,
    pub text: String,
    pub state: OutboxState,
    /// Do not send before this time (after a `rate_limited` answer).
    pub not_before: f64,
}

#[derive(Debug, Clone)]
pub struct Outbox {
    items: Vec<OutboxItem>,
    capacity: usize,
    in_flight: Option<String>,
}

/// Default bound: a visitor offline for a long time cannot queue without limit.
pub const OUTBOX_CAPACITY: usize = 50;

impl Default for Outbox {
    fn default() -> Self {
        Outbox::with_capacity(OUTBOX_CAPACITY)
    }
}

impl Outbox {
    pub fn with_capacity(capacity: usize) -> Self {
        Outbox { items: Vec::new(), capacity, in_flight: None }
    }

    pub fn is_full(&self) -> bool {
        self.items.len() >= self.capacity
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn items(&self) -> impl Iterator<Item = &OutboxItem> {
        self.items.iter()
    }

    /// Queue a message; false if the outbox is full.
    pub fn push(&mut self, id: String, text: String) -> bool {
        if self.is_full() {
            return false;
        }
        self.items.push(OutboxItem { id, text, state: OutboxState::Pending, not_before: 0.0 });
        true
    }

    /// The next message to transmit now, if none is in flight. Marks it in flight.
    pub fn next_to_send(&mut self, now: f64) -> Option<&OutboxItem> {
        if self.in_flight.is_some() {
            return None;
        }
        let item = self.items.iter().find(|i| i.state == OutboxState::Pending)?;
        if item.not_before > now {
            return None;
        }
        self.in_flight = Some(item.id.clone());
        Some(item)
    }

    /// When the first pending message may be sent again, if it is waiting.
    pub fn wake_at(&self) -> Option<f64> {
        if self.in_flight.is_some() {
            return None;
        }
        self.items.iter().find(|i| i.state == OutboxState::Pending).map(|i| i.not_before).filter(|&t| t > 0.0)
    }

    /// The connection dropped: whatever was in flight will be sent again.
    pub fn connection_lost(&mut self) {
        self.in_flight = None;
    }

    /// The room stored it: remove and return it.
    pub fn ack(&mut self, id: &str) -> Option<OutboxItem> {
        if self.in_flight.as_deref() == Some(id) {
            self.in_flight = None;
        }
        let pos = self.items.iter().position(|i| i.id == id)?;
        Some(self.items.remove(pos))
    }

    /// The room asked us to slow down: try this one again at `not_before`.
    pub fn delay(&mut self, id: &str, not_before: f64) -> bool {
        if self.in_flight.as_deref() == Some(id) {
            self.in_flight = None;
        }
        match self.items.iter_mut().find(|i| i.id == id) {
            Some(item) => {
                item.not_before = not_before;
                true
            }
            None => false,
        }
    }

    /// The room refused it for good.
    pub fn fail(&mut self, id: &str, error: ProtocolError) -> Option<&OutboxItem> {
        if self.in_flight.as_deref() == Some(id) {
            self.in_flight = None;
        }
        let item = self.items.iter_mut().find(|i| i.id == id)?;
        item.state = OutboxState::Failed(error);
        Some(item)
    }

    /// Put a failed message back in the queue.
    pub fn retry(&mut self, id: &str) -> Option<&OutboxItem> {
        let item = self.items.iter_mut().find(|i| i.id == id && i.state != OutboxState::Pending)?;
        item.state = OutboxState::Pending;
        item.not_before = 0.0;
        Some(item)
    }

    /// Drop a message the visitor gave up on (not one in flight).
    pub fn discard(&mut self, id: &str) -> bool {
        if self.in_flight.as_deref() == Some(id) {
            return false;
        }
        let before = self.items.len();
        self.items.retain(|i| i.id != id);
        self.items.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn one_in_flight_in_order() {
        let mut o = Outbox::default();
        assert!(o.push("a".into(), "1".into()) && o.push("b".into(), "2".into()));
        assert_eq!(o.next_to_send(0.0).unwrap().id, "a");
        assert!(o.next_to_send(0.0).is_none(), "b waits for a's ack");
        assert_eq!(o.ack("a").unwrap().text, "1");
        assert_eq!(o.next_to_send(0.0).unwrap().id, "b");
    }

    #[test]
    fn reconnect_resends_the_same_id() {
        let mut o = Outbox::default();
        o.push("a".into(), "1".into());
        assert_eq!(o.next_to_send(0.0).unwrap().id, "a");
        o.connection_lost();
        assert_eq!(o.next_to_send(1.0).unwrap().id, "a");
    }

    #[test]
    fn rate_limited_waits_failed_stays_until_retried() {
        let mut o = Outbox::default();
        o.push("a".into(), "1".into());
        o.push("b".into(), "2".into());
        o.next_to_send(0.0);
        assert!(o.delay("a", 1000.0));
        assert!(o.next_to_send(500.0).is_none());
        assert_eq!(o.wake_at(), Some(1000.0));
        assert_eq!(o.next_to_send(1000.0).unwrap().id, "a");
        o.fail("a", ProtocolError::new(ErrorCode::TooLong, "long"));
        assert_eq!(o.next_to_send(1000.0).unwrap().id, "b", "a failed item does not block the queue");
        assert!(o.retry("a").is_some());
        assert!(o.discard("a"));
        assert!(!o.discard("b"), "in flight");
        assert_eq!(o.len(), 1);
    }

    #[test]
    fn bounded() {
        let mut o = Outbox::with_capacity(2);
        assert!(o.push("a".into(), "".into()) && o.push("b".into(), "".into()));
        assert!(!o.push("c".into(), "".into()));
    }
}
