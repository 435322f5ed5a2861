//! The timer driver: one alarm register shared by every sleeping task.
//! Written as it would be for a microcontroller; only `hardware` is simulated.

use super::hardware;
use crate::irq::Interrupt;
use crate::list::WakerList;
use critical_section::CriticalSection;

// ANCHOR: timer
/// The sleeping tasks, each node tagged with its deadline.
pub static TIMER: Interrupt = Interrupt::with_arm(arm);

/// Sets the alarm for the earliest deadline (called with a new sleeper
/// linked, and by the handler after it woke the due ones).
fn arm(cs: CriticalSection<'_>, sleepers: &WakerList) {
    hardware::set_alarm(sleepers.min_tag(cs).unwrap_or(u64::MAX));
}

/// Ticks since the machine started.
pub fn now() -> u64 {
    hardware::now()
}

/// Waits until the counter reaches `deadline`.
pub async fn sleep_until(deadline: u64) {
    TIMER
        .wait_until(deadline, move |_| (now() >= deadline).then_some(()))
        .await;
}

/// Waits `ticks` from now.
pub async fn sleep(ticks: u64) {
    sleep_until(now() + ticks).await;
}

/// The timer's interrupt handler.
pub(crate) fn on_interrupt() {
    critical_section::with(|cs| {
        let now = now();
        TIMER.wake_where(cs, |deadline| deadline <= now);
        arm(cs, TIMER.waiters());
    });
}
// ANCHOR_END: timer
