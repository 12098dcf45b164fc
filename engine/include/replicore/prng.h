/* A seeded pseudo-random generator (splitmix64): the only randomness of the core and simulator. */
#ifndef REPLICORE_PRNG_H
#define REPLICORE_PRNG_H

#include <stdint.h>

struct rc_prng {
	uint64_t state;
};

/* Seeds the generator; the same seed yields the same sequence on every machine. */
static inline void
rc_prng_seed(struct rc_prng *p, uint64_t seed)
{
	p->state = seed;
}

/* Returns the next 64 random bits. */
static inline uint64_t
rc_prng_next(struct rc_prng *p)
{
	uint64_t z = (p->state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Returns a value in [0, bound); bound must be non-zero. */
static inline uint64_t
rc_prng_below(struct rc_prng *p, uint64_t bound)
{
	return (uint64_t)(((unsigned __int128)rc_prng_next(p) * bound) >> 64);
}

/* Returns true with probability per_million / 1,000,000. */
static inline int
rc_prng_chance(struct rc_prng *p, uint32_t per_million)
{
	return rc_prng_below(p, 1000000) < per_million;
}

#endif
