//! Awaiting without the code that drops a future midway.
//!
//! When an `.await` finishes, Rust drops the awaited future, and the code for that is the
//! future's whole drop glue: for an `async fn`, a match over every point where it could have
//! been suspended, dropping what was alive there and, inside, the futures it was awaiting.
//! A finished `async fn` holds nothing (its locals were dropped as it ran), so all that code
//! only ever serves a future dropped before its end. Ours never are: the runtime keeps a
//! request's future until it is ready (`wasm-bindgen-futures` drops a task only once it is
//! done), and nothing in the core races one future against another. Awaiting through
//! [`Settle::settle`] leaves the finished future undropped (`ManuallyDrop`), so its drop glue
//! is never referenced and not compiled in: about 17 KiB of the Worker's gzip, 30 KB of Wasm
//! (docs/architecture.md, "What keeps the Worker under 500 KiB").
//!
//! The rule, for every use: only on the future of an `async fn` or `async` block that is
//! awaited to its end. Not on a boxed future (`Pin<Box<dyn Future>>`: its box would not be
//! freed), not on a JavaScript promise's future, and not on a future that may be dropped
//! before it is ready (one side of a `select`, a timeout): what it holds then would leak.
//! In the `edge` layer, which awaits JavaScript promises and races timeouts, only the
//! awaits of its own `async fn`s use it (the KV cache, the D1 and WebCrypto calls, the
//! issuer's answer), never a `JsFuture` or the outbound calls raced against a timeout.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future polled like the one it wraps, whose drop does not drop it.
pub struct Settled<F> {
    future: ManuallyDrop<F>,
}

impl<F: Future> Future for Settled<F> {
    type Output = F::Output;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning: the inner future is never moved out of its wrapper, and
        // the wrapper never gives it out by value.
        unsafe { self.map_unchecked_mut(|s| &mut *s.future) }.poll(cx)
    }
}

/// `.settle().await`: awaits an `async fn`'s future to its end without compiling the code
/// that would drop it midway (the module's rule says where it may be used).
pub trait Settle: Future + Sized {
    #[inline(always)]
    fn settle(self) -> Settled<Self> {
        Settled {
            future: ManuallyDrop::new(self),
        }
    }
}

impl<F: Future> Settle for F {}

#[cfg(test)]
mod tests {
    use super::Settle;
    use std::cell::Cell;

    struct Guard<'a>(&'a Cell<u32>);

    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    async fn holds(drops: &Cell<u32>, n: u32) -> u32 {
        let _guard = Guard(drops);
        std::future::ready(()).await;
        n * 2
    }

    /// What a settled `async fn` held is still dropped, as it finishes: nothing leaks.
    #[test]
    fn a_settled_future_gives_its_output_and_drops_its_locals() {
        let drops = Cell::new(0);
        let out = pollster::block_on(async {
            let a = holds(&drops, 2).settle().await;
            let b = holds(&drops, 3).settle().await;
            a + b
        });
        assert_eq!(out, 10);
        assert_eq!(drops.get(), 2);
    }
}
