/** The offer-signing secret of the benchmark servers (never a real one). */
export const BENCH_OFFER_SECRET = 'bench-offer-secret-0123456789abcdef0123456789';
