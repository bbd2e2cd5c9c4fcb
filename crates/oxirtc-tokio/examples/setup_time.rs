//! Connection set-up time between two oxirtc peers in one process over loopback UDP: from
//! `create_offer` to the data channel open on both sides. Prints each run and the median.
//!
//! `cargo run --release -p oxirtc-tokio --example setup_time [RUNS]`

use std::time::{Duration, Instant};

use oxirtc_tokio::{Config, DataChannelInit, PeerConnection, PeerConnectionEvent};

async fn one() -> Result<Duration, Box<dyn std::error::Error>> {
    let a = PeerConnection::new(Config::loopback()).await?;
    let b = PeerConnection::new(Config::loopback()).await?;
    let mut dc = a.create_data_channel("t", DataChannelInit::default()).await?;
    let t0 = Instant::now();
    let offer = a.create_offer().await?;
    a.set_local_description(offer.clone()).await?;
    b.set_remote_description(offer).await?;
    let answer = b.create_answer().await?;
    b.set_local_description(answer.clone()).await?;
    a.set_remote_description(answer).await?;
    dc.opened().await?;
    while let Some(ev) = b.next_event().await {
        if let PeerConnectionEvent::DataChannel(mut remote) = ev {
            remote.opened().await?;
            break;
        }
    }
    Ok(t0.elapsed())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = one().await?;
        println!("set-up {:.2} ms", t.as_secs_f64() * 1000.0);
        times.push(t);
    }
    times.sort();
    println!(
        "median {:.2} ms over {runs} runs",
        times[runs / 2].as_secs_f64() * 1000.0
    );
    Ok(())
}
