//! Streams FILE through the decoder in N-byte chunks, writes raw f32le interleaved PCM to
//! stdout and a one-line summary to stderr.
//!
//! ```text
//! cargo run -p tapedeck-audio --example decode -- FILE --chunk N > out.f32
//! ```

use std::io::Write;
use std::process::ExitCode;

use tapedeck_audio::{Next, StreamDecoder};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("decode: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, chunk) = match args.as_slice() {
        [path] => (path, 4096),
        [path, flag, n] if flag == "--chunk" => (path, n.parse::<usize>()?.max(1)),
        _ => return Err("usage: decode FILE [--chunk N]".into()),
    };
    let bytes = std::fs::read(path)?;
    let extension = std::path::Path::new(path)
        .extension()
        .and_then(|e| e.to_str());
    let mut decoder = StreamDecoder::new(extension);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut rate, mut channels, mut frames) = (0, 0, 0);
    let mut chunks = bytes.chunks(chunk);
    loop {
        match decoder.decode()? {
            Next::Pcm(pcm) => {
                (rate, channels) = (pcm.sample_rate, pcm.channels);
                frames += pcm.frames();
                for sample in &pcm.samples {
                    out.write_all(&sample.to_le_bytes())?;
                }
            }
            Next::NeedMore => match chunks.next() {
                Some(piece) => decoder.push(piece)?,
                None => decoder.finish(),
            },
            Next::End => break,
        }
    }
    out.flush()?;
    eprintln!("sample_rate={rate} channels={channels} frames={frames}");
    Ok(())
}
