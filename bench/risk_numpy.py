"""The risk model of src/plan/kernel.ts, vectorised over paths with numpy (one loop over days).

Reads the compiled model (JSON) on stdin, prints {"seconds": …, "paths": …, "days": …} on stdout.
Same inputs, draws and flows; counts are drawn with numpy's gamma + Poisson (exact negative
binomial) where the TypeScript kernel inverts one uniform (Cornish-Fisher above a mean of 16).
"""
import json
import sys
import time

import numpy as np

m = json.loads(sys.stdin.read())
P, T, C, L, W = m["paths"], m["T"], m["C"], m["L"], m["W"]
rng = np.random.default_rng(m["seed"])
mean = np.array(m["pMean"]); sd = np.array(m["pSd"]); kind = np.array(m["pKind"])
k = np.array(m["dispersion"]); spend = np.array(m["spendRatio"]); disc = np.array(m["discount"])
lane_share = np.array(m["laneShare"]); wh_share = np.array(m["whShare"]); wh_loss = np.array(m["whLoss"])
day_demand = np.array(m["dayDemand"]).reshape(T, C); day_cost = np.array(m["dayCost"]).reshape(T, C)
lane_forced = np.array(m["laneForced"]).reshape(T, L); wh_forced = np.array(m["whForced"]).reshape(T, W)
RING = 256

t0 = time.perf_counter()
c0 = time.process_time()
z = rng.standard_normal((P, mean.size))
safe = np.where(mean > 0, mean, 1.0)
s2 = np.log1p((sd / safe) ** 2)
logn = mean * np.exp(np.sqrt(s2) * z - s2 / 2)
pv = np.where(sd == 0, mean, np.where(kind == 1, mean + sd * z, np.where(kind == 2, np.minimum(logn, 1.0), logn)))
cat = pv[:, : C * 8].reshape(P, C, 8)
lane = pv[:, C * 8 : C * 8 + L * 2].reshape(P, L, 2)
wh = pv[:, C * 8 + L * 2 : C * 8 + L * 2 + W * 3].reshape(P, W, 3)
g = pv[:, C * 8 + L * 2 + W * 3 :]
penalty, late_cost, cash, fixed = g[:, 0], g[:, 1], g[:, 2].copy(), g[:, 3]
base = cat[:, :, 0] * spend ** cat[:, :, 4] * np.maximum(0, 1 + cat[:, :, 5] * disc)
growth = np.exp(np.log1p(cat[:, :, 1]) / 7)
price = cat[:, :, 2] * (1 - disc); unit_cost = cat[:, :, 2] * cat[:, :, 3]
ret = cat[:, :, 6]; refund_rate = cat[:, :, 6] + cat[:, :, 7]
rate, delay = lane[:, :, 0], lane[:, :, 1]
haz, rep, spoil_v = wh[:, :, 0], wh[:, :, 1], wh[:, :, 2]
recv = np.zeros((RING, P)); pay = np.zeros((RING, P)); refund = np.zeros((RING, P))
recv[: m["recvLag"]] = (base * price).sum(1)
pay[: m["payLag"]] = (base * unit_cost * (1 - ret)).sum(1)
refund[: m["refundLag"]] = (base * price * refund_rate).sum(1)
down = np.zeros((P, W)); drawn = np.zeros(P); gcur = np.ones((P, C))
cash_out = np.empty((T, P), dtype=np.float32); gm_out = np.empty((T, P), dtype=np.float32)
cum_gm = np.zeros(P); breach = np.full(P, -1)
floor, limit, daily_rate, mkt = m["floor"], m["creditLimit"], m["creditDailyRate"], m["marketingTotal"]
kk = np.where(k > 0, k, 1.0)
for t in range(T):
    u = rng.random((P, L))
    ratio = np.maximum(u / rate, 1e-300)
    extra = np.where(lane_forced[t] >= 0, lane_forced[t], np.where(u < rate, -delay * np.log(ratio), 0.0))
    conv = (lane_share * np.where(extra > 0, np.exp(-penalty[:, None] * extra), 1.0)).sum(1)
    late = (lane_share * (extra > 0)).sum(1)
    uw = rng.random((P, W))
    was_down = down > 0
    down = np.where(was_down, down - 1, down)
    forced = (~was_down) & (wh_forced[t] > 0)
    fail = (~was_down) & (wh_forced[t] == 0) & (uw < haz)
    d = np.round(-rep * np.log(np.maximum(uw / haz, 1e-300)))
    down = np.where(fail, np.where(d > 1, d - 1, 0), down)
    spoil = np.where(fail | (forced & (wh_forced[t] == 2)), spoil_v, 0.0).sum(1)
    cap = 1 - (wh_share * wh_loss * (was_down | forced | fail)).sum(1)
    mu = base * gcur * day_demand[t] * conv[:, None]
    gcur *= growth
    lam = np.where(k > 0, rng.gamma(kk, mu / kk), mu)
    shipped = rng.poisson(lam) * cap[:, None]
    r = shipped * price; kc = shipped * unit_cost * day_cost[t]
    rev = r.sum(1); cogs = kc.sum(1); refunds = (r * refund_rate).sum(1); restock = (kc * ret).sum(1)
    orders = shipped.sum(1)
    late_costs = late_cost * orders * late
    gm_day = rev - cogs - refunds + restock - spoil - late_costs
    cum_gm += gm_day
    recv[(t + m["recvLag"]) % RING] += rev
    pay[(t + m["payLag"]) % RING] += cogs - restock + spoil
    refund[(t + m["refundLag"]) % RING] += refunds
    i = t % RING
    cash += recv[i] - pay[i] - refund[i] - fixed - mkt - late_costs
    recv[i] = 0; pay[i] = 0; refund[i] = 0
    cash -= drawn * daily_rate
    take = np.where(cash < floor, np.minimum(limit - drawn, floor - cash), 0.0)
    take = np.maximum(take, 0.0)
    give = np.where((cash >= floor) & (drawn > 0), np.minimum(drawn, cash - floor), 0.0)
    drawn += take - give
    cash += take - give
    breach = np.where((breach < 0) & (cash < floor), t, breach)
    cash_out[t] = cash; gm_out[t] = cum_gm
seconds = time.perf_counter() - t0
cpu_seconds = time.process_time() - c0
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "paths": P, "days": T, "mean_gross_margin": float(cum_gm.mean()), "p_breach": float((breach >= 0).mean())}))
