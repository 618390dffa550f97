/* SPDX-License-Identifier: Apache-2.0 */
/* ed25519.c — see ed25519.h.
 *
 * Only what a key pair needs: SHA-512 of the seed, clamped, times the base
 * point, encoded (RFC 8032, 5.1.5).  Field elements are five 51-bit limbs
 * (arithmetic modulo p = 2^255 - 19 with 128-bit products); points are in
 * extended coordinates (X:Y:Z:T), added with the unified formula, which
 * also doubles.  The ladder swaps in constant time, as TweetNaCl's does, so
 * the secret scalar does not steer branches or memory accesses. */
#include "ed25519.h"

#include <string.h>

#include "sha2.h"

typedef unsigned __int128 u128;

#define MASK51 ((UINT64_C(1) << 51) - 1)

/* An element of GF(2^255 - 19), not necessarily fully reduced: limbs are
 * kept below 2^52 between operations (every operation carries). */
struct fe {
	uint64_t v[5];
};

struct point {
	struct fe x, y, z, t;
};

/* 2d, where d = -121665/121666, and the base point, little-endian. */
static const uint8_t d2_bytes[32] = {
	0x59, 0xf1, 0xb2, 0x26, 0x94, 0x9b, 0xd6, 0xeb, 0x56, 0xb1, 0x83, 0x82, 0x9a, 0x14, 0xe0, 0x00,
	0x30, 0xd1, 0xf3, 0xee, 0xf2, 0x80, 0x8e, 0x19, 0xe7, 0xfc, 0xdf, 0x56, 0xdc, 0xd9, 0x06, 0x24,
};
static const uint8_t bx_bytes[32] = {
	0x1a, 0xd5, 0x25, 0x8f, 0x60, 0x2d, 0x56, 0xc9, 0xb2, 0xa7, 0x25, 0x95, 0x60, 0xc7, 0x2c, 0x69,
	0x5c, 0xdc, 0xd6, 0xfd, 0x31, 0xe2, 0xa4, 0xc0, 0xfe, 0x53, 0x6e, 0xcd, 0xd3, 0x36, 0x69, 0x21,
};
static const uint8_t by_bytes[32] = {
	0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
};

static uint64_t load64(const uint8_t *p)
{
	uint64_t x = 0;

	for (int i = 7; i >= 0; i--)
		x = x << 8 | p[i];
	return x;
}

static void fe_frombytes(struct fe *h, const uint8_t s[32])
{
	uint64_t x0 = load64(s), x1 = load64(s + 8), x2 = load64(s + 16), x3 = load64(s + 24);

	h->v[0] = x0 & MASK51;
	h->v[1] = (x0 >> 51 | x1 << 13) & MASK51;
	h->v[2] = (x1 >> 38 | x2 << 26) & MASK51;
	h->v[3] = (x2 >> 25 | x3 << 39) & MASK51;
	h->v[4] = (x3 >> 12) & MASK51; /* bit 255 is not part of the number */
}

static void fe_set(struct fe *h, uint64_t small)
{
	memset(h, 0, sizeof(*h));
	h->v[0] = small;
}

/* Limbs back below 2^51 (the first just above at most), value unchanged
 * modulo p: 2^255 = 19. */
static void fe_carry(struct fe *h)
{
	uint64_t c;

	for (int i = 0; i < 4; i++) {
		c = h->v[i] >> 51;
		h->v[i] &= MASK51;
		h->v[i + 1] += c;
	}
	c = h->v[4] >> 51;
	h->v[4] &= MASK51;
	h->v[0] += 19 * c;
}

static void fe_add(struct fe *h, const struct fe *f, const struct fe *g)
{
	for (int i = 0; i < 5; i++)
		h->v[i] = f->v[i] + g->v[i];
	fe_carry(h);
}

/* f - g, computed as f + 4p - g so that no limb goes below zero. */
static void fe_sub(struct fe *h, const struct fe *f, const struct fe *g)
{
	h->v[0] = f->v[0] + UINT64_C(0x1fffffffffffb4) - g->v[0];
	for (int i = 1; i < 5; i++)
		h->v[i] = f->v[i] + UINT64_C(0x1ffffffffffffc) - g->v[i];
	fe_carry(h);
}

static void fe_mul(struct fe *h, const struct fe *f, const struct fe *g)
{
	const uint64_t *a = f->v, *b = g->v;
	uint64_t b1 = 19 * b[1], b2 = 19 * b[2], b3 = 19 * b[3], b4 = 19 * b[4];
	u128 r0 = (u128)a[0] * b[0] + (u128)a[1] * b4 + (u128)a[2] * b3 + (u128)a[3] * b2 + (u128)a[4] * b1;
	u128 r1 = (u128)a[0] * b[1] + (u128)a[1] * b[0] + (u128)a[2] * b4 + (u128)a[3] * b3 + (u128)a[4] * b2;
	u128 r2 = (u128)a[0] * b[2] + (u128)a[1] * b[1] + (u128)a[2] * b[0] + (u128)a[3] * b4 + (u128)a[4] * b3;
	u128 r3 = (u128)a[0] * b[3] + (u128)a[1] * b[2] + (u128)a[2] * b[1] + (u128)a[3] * b[0] + (u128)a[4] * b4;
	u128 r4 = (u128)a[0] * b[4] + (u128)a[1] * b[3] + (u128)a[2] * b[2] + (u128)a[3] * b[1] + (u128)a[4] * b[0];
	uint64_t c;

	r1 += (uint64_t)(r0 >> 51);
	r2 += (uint64_t)(r1 >> 51);
	r3 += (uint64_t)(r2 >> 51);
	r4 += (uint64_t)(r3 >> 51);
	c = (uint64_t)(r4 >> 51);
	h->v[0] = ((uint64_t)r0 & MASK51) + 19 * c;
	h->v[1] = (uint64_t)r1 & MASK51;
	h->v[2] = (uint64_t)r2 & MASK51;
	h->v[3] = (uint64_t)r3 & MASK51;
	h->v[4] = (uint64_t)r4 & MASK51;
	fe_carry(h);
}

/* z^(p-2) = 1/z: p - 2 = 2^255 - 21 has every bit from 254 down to 0 set
 * but bits 4 and 2. */
static void fe_invert(struct fe *out, const struct fe *z)
{
	struct fe c = *z;

	for (int a = 253; a >= 0; a--) {
		fe_mul(&c, &c, &c);
		if (a != 2 && a != 4)
			fe_mul(&c, &c, z);
	}
	*out = c;
}

/* The unique representative below p, little-endian. */
static void fe_tobytes(uint8_t s[32], const struct fe *f)
{
	struct fe h = *f;
	uint64_t w[4], top;
	u128 acc;

	fe_carry(&h);
	fe_carry(&h);
	/* As a 256-bit number (limb i is worth 2^(51 i)); at most 2^255 plus
	 * a little, since a limb may be just over 51 bits. */
	acc = 0;
	for (int i = 0, bits = 0, n = 0; i < 5; i++) {
		acc += (u128)h.v[i] << bits;
		bits += 51;
		if (bits >= 64 || i == 4) {
			w[n++] = (uint64_t)acc;
			acc >>= 64;
			bits -= 64;
		}
	}
	/* Fold bit 255 up (2^255 = 19), twice, so the value is below 2^255. */
	for (int pass = 0; pass < 2; pass++) {
		top = w[3] >> 63;
		w[3] &= ~(UINT64_C(1) << 63);
		acc = (u128)w[0] + 19 * top;
		w[0] = (uint64_t)acc;
		for (int i = 1; i < 4; i++) {
			acc = (u128)w[i] + (uint64_t)(acc >> 64);
			w[i] = (uint64_t)acc;
		}
	}
	/* Below 2^255 now; subtract p once if it is at least p, which is when
	 * adding 19 reaches 2^255.  Done with masks, not a branch. */
	acc = (u128)w[0] + 19;
	uint64_t t[4];
	t[0] = (uint64_t)acc;
	for (int i = 1; i < 4; i++) {
		acc = (u128)w[i] + (uint64_t)(acc >> 64);
		t[i] = (uint64_t)acc;
	}
	uint64_t ge = t[3] >> 63, mask = (uint64_t)0 - ge;
	t[3] &= ~(UINT64_C(1) << 63);
	for (int i = 0; i < 4; i++)
		w[i] = (w[i] & ~mask) | (t[i] & mask);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 8; j++)
			s[8 * i + j] = (uint8_t)(w[i] >> (8 * j));
}

/* p += q (q may be p: the formula is unified). */
static void point_add(struct point *p, const struct point *q)
{
	struct fe a, b, c, d, e, f, g, h, t, d2;

	fe_frombytes(&d2, d2_bytes);
	fe_sub(&a, &p->y, &p->x);
	fe_sub(&t, &q->y, &q->x);
	fe_mul(&a, &a, &t);
	fe_add(&b, &p->x, &p->y);
	fe_add(&t, &q->x, &q->y);
	fe_mul(&b, &b, &t);
	fe_mul(&c, &p->t, &q->t);
	fe_mul(&c, &c, &d2);
	fe_mul(&d, &p->z, &q->z);
	fe_add(&d, &d, &d);
	fe_sub(&e, &b, &a);
	fe_sub(&f, &d, &c);
	fe_add(&g, &d, &c);
	fe_add(&h, &b, &a);
	fe_mul(&p->x, &e, &f);
	fe_mul(&p->y, &h, &g);
	fe_mul(&p->z, &g, &f);
	fe_mul(&p->t, &e, &h);
}

static void fe_cswap(struct fe *f, struct fe *g, uint64_t bit)
{
	uint64_t mask = (uint64_t)0 - bit;

	for (int i = 0; i < 5; i++) {
		uint64_t x = mask & (f->v[i] ^ g->v[i]);
		f->v[i] ^= x;
		g->v[i] ^= x;
	}
}

static void point_cswap(struct point *p, struct point *q, uint64_t bit)
{
	fe_cswap(&p->x, &q->x, bit);
	fe_cswap(&p->y, &q->y, bit);
	fe_cswap(&p->z, &q->z, bit);
	fe_cswap(&p->t, &q->t, bit);
}

/* scalar (little-endian, 256 bits) times the base point. */
static void scalarmult_base(struct point *p, const uint8_t scalar[32])
{
	struct point q;

	fe_set(&p->x, 0);
	fe_set(&p->y, 1);
	fe_set(&p->z, 1);
	fe_set(&p->t, 0);
	fe_frombytes(&q.x, bx_bytes);
	fe_frombytes(&q.y, by_bytes);
	fe_set(&q.z, 1);
	fe_mul(&q.t, &q.x, &q.y);
	for (int i = 255; i >= 0; i--) {
		uint64_t bit = (scalar[i / 8] >> (i & 7)) & 1;
		point_cswap(p, &q, bit);
		point_add(&q, p);
		point_add(p, p);
		point_cswap(p, &q, bit);
	}
}

void ed25519_public_key(const uint8_t seed[ED25519_SEED_LEN], uint8_t pub[ED25519_PUBLIC_LEN])
{
	uint8_t h[SHA2_512_LEN], x[32];
	struct point p;
	struct fe zi, fx, fy;

	sha2_512(seed, ED25519_SEED_LEN, h);
	h[0] &= 248;
	h[31] &= 127;
	h[31] |= 64;
	scalarmult_base(&p, h);
	fe_invert(&zi, &p.z);
	fe_mul(&fx, &p.x, &zi);
	fe_mul(&fy, &p.y, &zi);
	fe_tobytes(pub, &fy);
	fe_tobytes(x, &fx);
	pub[31] ^= (uint8_t)((x[0] & 1) << 7);
	/* The scalar is as secret as the seed. */
	explicit_bzero(h, sizeof(h));
	explicit_bzero(&p, sizeof(p));
}
