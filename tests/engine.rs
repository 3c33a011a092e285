//! The engine as a caller sees it: `auto` gives the same bits as every forced backend; the
//! planner's rules hold (short work never looks for a GPU, software adapters are never chosen,
//! data on a device stays there); and the async core sums a stream whose reads wait, as a
//! browser's do, on a thread that never blocks. Runs on every adapter present.

use crate::common;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use gpusum::engine::{ArrayBytes, ProfileChoice, Reason, Request, Source};
use gpusum::input::{ArrayFormat, ArrayReader, ChunkFuture, ChunkRead, InputHints};
use gpusum::{
    ArrayTotal, BackendChoice, ByteOrder, Control, Dtype, Engine, EngineOptions, FloatSlice,
    IntSlice, Place, SumRange,
};

fn open(backend: BackendChoice) -> Engine {
    let options = EngineOptions::new(backend).with_profile(ProfileChoice::None);
    Engine::open(&options).unwrap()
}

/// Every engine a user can ask for here: auto, cpu, seq, and gpu on each graphics API.
fn engines() -> Vec<(String, Engine)> {
    let mut all: Vec<(String, Engine)> =
        [BackendChoice::Auto, BackendChoice::Cpu, BackendChoice::Seq]
            .into_iter()
            .map(|backend| (backend.name().to_owned(), open(backend)))
            .collect();
    for api in common::adapter_backends() {
        let options = EngineOptions::new(BackendChoice::Gpu)
            .with_adapter(format!("({api})"))
            .with_profile(ProfileChoice::None);
        all.push((format!("gpu ({api})"), Engine::open(&options).unwrap()));
    }
    all
}

/// Awkward data of every kind: both ends of i64, every byte, cancellation and a subnormal, and
/// big-endian i32.
struct Data {
    ints: Vec<i64>,
    bytes: Vec<u8>,
    doubles: Vec<f64>,
    singles: Vec<f32>,
    big_endian: Vec<u8>,
}

fn requests_data() -> Data {
    let ints: Vec<i64> = (0..70_001)
        .map(|i| if i % 3 == 0 { i64::MIN } else { i64::MAX - i })
        .collect();
    let bytes: Vec<u8> = (0..100_003u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let mut doubles: Vec<f64> = (0..50_000).map(|i| (i as f64 - 25_000.5) * 1e-3).collect();
    doubles.extend([1e308, 1.0, -1e308, 5e-324]);
    let singles: Vec<f32> = doubles.iter().map(|&v| v as f32).collect();
    let big_endian: Vec<u8> = (0..40_000i32)
        .flat_map(|v| v.wrapping_mul(77_777).to_be_bytes())
        .collect();
    Data {
        ints,
        bytes,
        doubles,
        singles,
        big_endian,
    }
}

#[test]
fn auto_gives_the_bits_of_every_forced_backend() {
    let Data {
        ints,
        bytes,
        doubles,
        singles,
        big_endian,
    } = requests_data();
    let ranges = [
        SumRange::new(1, 20),
        SumRange::new(i64::MIN, i64::MIN + 99_999),
        SumRange::new(-(1 << 33), 1 << 33),
    ];
    let mut reference: Vec<Option<ArrayTotal>> = Vec::new();
    for (name, engine) in engines() {
        let control = Control::new();
        let mut totals: Vec<ArrayTotal> = ranges
            .iter()
            .map(|&range| {
                engine
                    .sum_request(Request::new(range), &control)
                    .unwrap()
                    .total
            })
            .collect();
        let arrays = [
            ArrayBytes::from(IntSlice::I64(&ints)),
            IntSlice::U8(&bytes).into(),
            FloatSlice::F64(&doubles).into(),
            FloatSlice::F32(&singles).into(),
            ArrayBytes::new(&big_endian, Dtype::I32, ByteOrder::Big).unwrap(),
        ];
        for array in arrays {
            totals.push(
                engine
                    .sum_request(Request::new(array), &control)
                    .unwrap()
                    .total,
            );
        }
        let hints = InputHints::raw(Dtype::I32).with_big_endian(true);
        let mut reader = ArrayReader::new(&big_endian[..], "bytes", hints, None).unwrap();
        totals.push(
            engine
                .sum_reader(&mut reader, true, &control)
                .unwrap()
                .total,
        );
        if reference.is_empty() {
            reference = totals.iter().cloned().map(Some).collect();
            assert_eq!(totals[0].int_sum(), Some(210));
            assert_eq!(
                totals[3].int_sum(),
                Some(IntSlice::I64(&ints).reference_sum())
            );
            continue;
        }
        for (k, (total, expected)) in totals.iter().zip(&reference).enumerate() {
            assert_eq!(Some(total), expected.as_ref(), "{name}: request {k}");
        }
    }
}

#[test]
fn short_work_stays_on_the_cpu_without_looking_and_long_work_skips_software_adapters() {
    let engine = open(BackendChoice::Auto);
    let control = Control::new();
    let outcome = engine
        .sum_request(Request::new(SumRange::new(1, 20)), &control)
        .unwrap();
    assert_eq!(outcome.plan.place, Place::Seq);
    assert!(matches!(outcome.plan.reason, Reason::BeforeAnyGpu { .. }));
    assert!(
        engine.gpu().is_none() && engine.setup().is_zero(),
        "{engine:?}"
    );
    // Long work looks; on a machine whose adapters are all software ones, it stays on the CPU.
    let long = Request::new(SumRange::new(1, 1 << 40));
    let plan = engine.plan(&long).unwrap();
    let adapters = gpusum::gpu::compute_adapters(&gpusum::gpu::instance());
    let hardware = adapters
        .iter()
        .any(|a| a.get_info().device_type != wgpu::DeviceType::Cpu);
    if !hardware {
        assert_ne!(plan.place, Place::Gpu, "{plan}");
        assert!(engine.gpu().is_none(), "planning opened a GPU");
    }
    eprintln!("plan of 2^40: {plan}");
}

#[test]
fn data_on_a_device_stays_there_under_auto() {
    for api in common::adapter_backends() {
        // Naming the adapter opens it, and the data uploaded there is summed there.
        let options = EngineOptions::new(BackendChoice::Auto).with_adapter(format!("({api})"));
        let engine = Engine::open(&options).unwrap();
        let context = engine.gpu().expect("a named adapter opens at once");
        let values: Vec<i64> = (0..10_000).map(|i| i64::MAX - i).collect();
        let array = context
            .upload(IntSlice::I64(&values), &Control::new())
            .unwrap();
        let request = Request::new(Source::Device(&array));
        let plan = engine.plan(&request).unwrap();
        assert_eq!(
            (plan.place, &plan.reason),
            (Place::Gpu, &Reason::OnDevice),
            "{api}"
        );
        let outcome = engine.run(request, &plan, &Control::new()).unwrap();
        assert_eq!(
            outcome.int_sum(),
            Some(IntSlice::I64(&values).reference_sum())
        );
        // The CPU cannot sum it, and says so.
        let cpu = open(BackendChoice::Cpu);
        assert!(cpu.plan(&Request::new(Source::Device(&array))).is_err());
    }
}

/// A stream whose every read waits once before its bytes arrive, as a browser's file reads do.
struct Waiting<'a> {
    inner: ArrayReader<&'a [u8]>,
}

impl ChunkRead for Waiting<'_> {
    fn format(&self) -> ArrayFormat {
        self.inner.format()
    }

    fn name(&self) -> &str {
        self.inner.name()
    }

    fn bytes_read(&self) -> u64 {
        self.inner.bytes_read()
    }

    fn read_chunk<'a>(&'a mut self, buffer: &'a mut [u8]) -> ChunkFuture<'a> {
        let mut waited = false;
        Box::pin(std::future::poll_fn(move |context| {
            if !waited {
                waited = true;
                context.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(self.inner.fill(buffer))
        }))
    }
}

struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Polls `future` on this thread until it is ready, polling again only after a wake: what a
/// browser's event loop does with the page's futures. A future that is pending and never wakes
/// fails the test (after 30 s) instead of hanging it. Returns the output and the polls made.
fn run_without_blocking<F: Future>(future: F) -> (F::Output, usize) {
    let count = Arc::new(Count(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&count));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    let started = std::time::Instant::now();
    for polls in 1.. {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return (output, polls);
        }
        while count.0.load(Ordering::Relaxed) < polls {
            assert!(started.elapsed().as_secs() < 30, "pending, and never woken");
            std::thread::yield_now();
        }
    }
    unreachable!()
}

#[test]
fn the_async_core_sums_a_waiting_stream_without_blocking_and_with_the_same_bits() {
    let Data {
        ints,
        doubles,
        big_endian,
        ..
    } = requests_data();
    let cases: [(&[u8], Dtype, bool); 3] = [
        (bytemuck::cast_slice(&ints), Dtype::I64, false),
        (bytemuck::cast_slice(&doubles), Dtype::F64, false),
        (&big_endian, Dtype::I32, true),
    ];
    for (name, engine) in engines() {
        for (bytes, dtype, big) in cases {
            let hints = InputHints::raw(dtype).with_big_endian(big);
            let order = if big {
                ByteOrder::Big
            } else {
                ByteOrder::Little
            };
            let expected = engine
                .sum_request(
                    Request::new(ArrayBytes::new(bytes, dtype, order).unwrap()),
                    &Control::new(),
                )
                .unwrap()
                .total;
            // Small chunks: many waits.
            let inner = ArrayReader::new(bytes, "waiting", hints, None).unwrap();
            let mut stream = Waiting { inner };
            let control = Control::new();
            let request = Request::new(Source::Reader(&mut stream)).with_check(true);
            let plan = engine.plan(&request).unwrap();
            let (outcome, polls) = run_without_blocking(engine.run_async(request, &plan, &control));
            let outcome = outcome.unwrap();
            assert_eq!(outcome.total, expected, "{name} {dtype}");
            assert_eq!(
                outcome.cpu_check.as_ref(),
                Some(&expected),
                "{name} {dtype}"
            );
            assert!(
                polls > 1,
                "{name} {dtype}: the stream's waits were not awaited"
            );
        }
    }
}

#[test]
fn strided_views_sum_in_place_or_in_chunks_with_the_same_bits_everywhere() {
    use gpusum::engine::StridedBytes;
    let values: Vec<i64> = (0..300_000).map(|i| i64::MAX - i * 7_777_777).collect();
    let bytes: &[u8] = bytemuck::cast_slice(&values);
    let view = |origin, shape: Vec<usize>, strides: Vec<isize>| {
        StridedBytes::new(bytes, origin, shape, strides, Dtype::I64, ByteOrder::Little).unwrap()
    };
    // Columns 0, 2, 4 of a 1000 x 300 matrix; every third value backwards; the matrix transposed.
    let columns = view(0, vec![1000, 150], vec![2400, 16]);
    let backwards = view(8 * 299_999, vec![100_000], vec![-24]);
    let transposed = view(0, vec![300, 1000], vec![8, 2400]);
    let expected = |pick: &dyn Fn(usize) -> bool| -> i128 {
        values
            .iter()
            .enumerate()
            .filter(|&(i, _)| pick(i))
            .map(|(_, &v)| i128::from(v))
            .sum()
    };
    let cases = [
        (columns, expected(&|i| i % 300 % 2 == 0 && i % 300 < 300)),
        (backwards, expected(&|i| (299_999 - i) % 3 == 0)),
        (transposed, expected(&|_| true)),
    ];
    for (name, engine) in engines() {
        for (k, (view, expected)) in cases.iter().enumerate() {
            let source = Source::strided(view.clone());
            assert_eq!(
                matches!(source, Source::Array(_)),
                k == 2,
                "only the transpose is one block"
            );
            let outcome = engine
                .sum_request(Request::new(source), &Control::new())
                .unwrap();
            assert_eq!(outcome.int_sum(), Some(*expected), "{name}: view {k}");
            assert_eq!(outcome.total.count(), view.len(), "{name}: view {k}");
        }
    }
}

#[test]
fn short_work_still_goes_to_the_pool_where_the_pool_is_faster() {
    if gpusum::cpu::CpuTwin::new(gpusum::cpu::Threads::All).threads() != gpusum::cpu::Threads::All
        || rayon::current_num_threads() < 2
    {
        return;
    }
    let engine = open(BackendChoice::Auto);
    let bytes = vec![1u8; 10_000_000];
    let plan = engine.plan(&Request::new(IntSlice::U8(&bytes))).unwrap();
    assert_eq!(plan.place, Place::Cpu, "{plan}");
    let tiny = engine
        .plan(&Request::new(IntSlice::U8(&bytes[..100])))
        .unwrap();
    assert_eq!(tiny.place, Place::Seq, "{tiny}");
}
