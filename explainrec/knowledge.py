"""Zero-shot preference transfer, part 1: the universal preference knowledge base K.

K = {P_demo, P_cross, P_temporal}, built from training ratings only (numpy; no language model):

- P_demo(u, i) = sum_g w_g phi_g(i) over the user's demographic groups g (age band, gender,
  occupation). phi_g(i) = (likes_gi + m * prior_g(i)) / (n_gi + m): the group's like rate of the
  item, smoothed toward prior_g(i), the group's smoothed like rate of the item's genres (so a new
  item gets its attributes' rate). w_g is set by reliability: the mean evidence share
  n_gi / (n_gi + m) of the group type over rated (group, item) cells, normalised over the types.
- P_cross(u, i): genre-level correlations between "domains". C[a, b] is the Pearson correlation
  over users of their like rates of genres a and b; the user's deviation from the global like
  rate on genre a (shrunk; the demographic groups' when the user has no history) is carried to
  the item's genres through C.
- P_temporal(u, i): era preference: the groups' (and, if any, the user's) smoothed like rate of
  the item's decade, plus the like-rate trend of the rating period (the month of the question).

The prior logit is c0 + c_d logit(P_demo) + c_c logit(P_cross) + c_t logit(P_temporal) with c
fitted by logistic regression on held-out pairs (``calibrate``). Training pairs are scored
leave-one-out (the pair's own rating removed from the counts), so the prior does not look
better on training pairs than on unseen ones.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from explainrec.data import GROUP_TYPES, ItemTable, UserTable

EPS = 1e-3


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def _decade(year: int | None) -> str:
    return "unknown" if year is None else f"{year // 10 * 10}s"


class PreferenceKB:
    """Counts over training ratings; scores any (user, item), history or not."""

    def __init__(self, items: ItemTable, users: UserTable, users_idx: np.ndarray,
                 items_idx: np.ndarray, liked: np.ndarray, timestamps: np.ndarray,
                 smoothing: float = 10.0) -> None:
        self.items, self.users, self.m = items, users, float(smoothing)
        u, it = np.asarray(users_idx, np.int64), np.asarray(items_idx, np.int64)
        y = np.asarray(liked, dtype=float)
        self.global_rate = float(y.mean()) if len(y) else 0.5
        self.own = {(int(a), int(b)): float(c) for a, b, c in zip(u, it, y)}
        self.user_hist: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for a, b, c in zip(u, it, y):
            self.user_hist[int(a)].append((int(b), float(c)))
        genres = sorted({g for gs in items.genres for g in gs})
        self.genre_index = {g: n for n, g in enumerate(genres)}
        # counts per (group type, group name, item) and per (group, genre) / (group, decade)
        self.cell: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.gen: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.era: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for a, b, c in zip(u, it, y):
            for t, name in zip(GROUP_TYPES, self._groups(int(a))):
                cell = self.cell[(t, name, int(b))]
                cell[0] += c
                cell[1] += 1
                for g in items.genres[b]:
                    self.gen[(t, name, g)][0] += c
                    self.gen[(t, name, g)][1] += 1
                e = self.era[(t, name, _decade(items.years[b]))]
                e[0] += c
                e[1] += 1
        # reliability weights of the group types
        share: dict[str, list[float]] = {t: [] for t in GROUP_TYPES}
        for (t, _, _), (_, n) in self.cell.items():
            share[t].append(n / (n + self.m))
        rel = np.array([np.mean(share[t]) if share[t] else 0.0 for t in GROUP_TYPES])
        self.w = rel / rel.sum() if rel.sum() > 0 else np.full(len(GROUP_TYPES), 1 / 3)
        self._fit_cross(u, it, y)
        self._fit_period(timestamps, y)
        self.coef = np.array([0.0, 1 / 3, 1 / 3, 1 / 3])
        self._dev_cache: dict[int, np.ndarray] = {}

    # --- pieces ---------------------------------------------------------------------------------
    def _groups(self, user: int) -> tuple[str, str, str]:
        if 0 <= user < len(self.users.groups):
            return self.users.groups[user]
        return ("unknown age", "unknown", "unknown")

    def _rate(self, counts, prior: float, m: float, minus: float = 0.0, minus_n: float = 0.0):
        s, n = (counts if counts is not None else (0.0, 0.0))
        return (s - minus + m * prior) / (n - minus_n + m)

    def _fit_cross(self, u, it, y) -> None:
        n_g = len(self.genre_index)
        users = np.unique(u) if len(u) else np.array([], dtype=np.int64)
        rows = {int(x): r for r, x in enumerate(users)}
        s, n = np.zeros((len(users), n_g)), np.zeros((len(users), n_g))
        for a, b, c in zip(u, it, y):
            for g in self.items.genres[b]:
                s[rows[int(a)], self.genre_index[g]] += c
                n[rows[int(a)], self.genre_index[g]] += 1
        tot_s, tot_n = s.sum(0), n.sum(0)
        self.genre_rate = (tot_s + self.m * self.global_rate) / (tot_n + self.m)
        rate = (s + 3.0 * self.genre_rate) / (n + 3.0)  # per-user rates, shrunk
        dev = rate - self.genre_rate
        with np.errstate(invalid="ignore", divide="ignore"):  # constant genres give NaN -> 0
            corr = np.corrcoef(dev.T) if len(users) > 2 else np.eye(n_g)
        self.C = np.nan_to_num(corr, nan=0.0)
        np.fill_diagonal(self.C, 1.0)

    def _fit_period(self, ts, y) -> None:
        ts = np.asarray(ts, dtype=np.int64)
        self.month_rate: dict[int, float] = {}
        if len(ts):
            months = ts // (30 * 86400)
            for mo in np.unique(months):
                sel = months == mo
                self.month_rate[int(mo)] = (y[sel].sum() + self.m * self.global_rate) / (
                    sel.sum() + self.m)

    def user_genre_deviation(self, user: int, exclude_item: int | None = None) -> np.ndarray:
        """The user's (or, without history, the groups') like-rate deviation per genre."""
        cacheable = exclude_item is None or (user, exclude_item) not in self.own
        if cacheable and user in self._dev_cache:
            return self._dev_cache[user]
        dev = self._deviation(user, exclude_item)
        if cacheable:
            self._dev_cache[user] = dev
        return dev

    def _deviation(self, user: int, exclude_item: int | None) -> np.ndarray:
        hist = [(i, c) for i, c in self.user_hist.get(user, []) if i != exclude_item]
        n_g = len(self.genre_index)
        if hist:
            s, n = np.zeros(n_g), np.zeros(n_g)
            for i, c in hist:
                for g in self.items.genres[i]:
                    s[self.genre_index[g]] += c
                    n[self.genre_index[g]] += 1
            return (s + 3.0 * self.genre_rate) / (n + 3.0) - self.genre_rate
        dev = np.zeros(n_g)
        for w, t, name in zip(self.w, GROUP_TYPES, self._groups(user)):
            for g, k in self.genre_index.items():
                dev[k] += w * (self._rate(self.gen.get((t, name, g)), self.genre_rate[k], self.m)
                               - self.genre_rate[k])
        return dev

    # --- the three knowledge sources -------------------------------------------------------------
    def p_demo(self, user: int, item: int, loo: bool = True) -> float:
        own = self.own.get((user, item)) if loo else None
        out = 0.0
        for w, t, name in zip(self.w, GROUP_TYPES, self._groups(user)):
            gs = self.items.genres[item]
            prior = float(np.mean([self._rate(self.gen.get((t, name, g)), self.genre_rate[
                self.genre_index[g]], self.m) for g in gs])) if gs else self.global_rate
            minus, minus_n = (own, 1.0) if own is not None else (0.0, 0.0)
            out += w * self._rate(self.cell.get((t, name, item)), prior, self.m, minus, minus_n)
        return out

    def p_cross(self, user: int, item: int, loo: bool = True) -> float:
        gs = [self.genre_index[g] for g in self.items.genres[item]]
        if not gs:
            return self.global_rate
        dev = self.user_genre_deviation(user, item if loo else None)
        base = float(np.mean(self.genre_rate[gs]))
        shift = np.mean([self.C[:, b] @ dev / max(np.abs(self.C[:, b]).sum(), 1.0) for b in gs])
        return float(np.clip(base + 3.0 * shift, EPS, 1 - EPS))

    def p_temporal(self, user: int, item: int, timestamp: int | None = None) -> float:
        d = _decade(self.items.years[item])
        era = 0.0
        for w, t, name in zip(self.w, GROUP_TYPES, self._groups(user)):
            era += w * self._rate(self.era.get((t, name, d)), self.global_rate, self.m)
        hist = [c for i, c in self.user_hist.get(user, [])
                if i != item and _decade(self.items.years[i]) == d]
        if hist:  # the user's own era rate, shrunk toward the groups'
            era = (sum(hist) + 5.0 * era) / (len(hist) + 5.0)
        if timestamp is not None and self.month_rate:
            period = self.month_rate.get(int(timestamp) // (30 * 86400), self.global_rate)
            era = float(np.clip(era + (period - self.global_rate), EPS, 1 - EPS))
        return era

    def features(self, users, items, timestamps=None, loo: bool = True) -> np.ndarray:
        """(n, 3) logits of P_demo, P_cross, P_temporal."""
        ts = [None] * len(users) if timestamps is None else timestamps
        rows = [(self.p_demo(int(u), int(i), loo), self.p_cross(int(u), int(i), loo),
                 self.p_temporal(int(u), int(i), None if t is None else int(t)))
                for u, i, t in zip(users, items, ts)]
        return logit(np.array(rows).reshape(-1, 3))

    def prior_logit(self, users, items, timestamps=None, loo: bool = True) -> np.ndarray:
        x = self.features(users, items, timestamps, loo)
        return self.coef[0] + x @ self.coef[1:]

    def calibrate(self, users, items, liked, timestamps=None, l2: float = 1.0) -> np.ndarray:
        """Fit c by L2-regularised logistic regression (Newton) on held-out pairs."""
        y = np.asarray(liked, dtype=float)
        if len(y) < 20 or y.min() == y.max():
            return self.coef
        x = np.hstack([np.ones((len(y), 1)), self.features(users, items, timestamps, loo=False)])
        c = np.zeros(x.shape[1])
        reg = l2 * np.eye(len(c))
        reg[0, 0] = 0.0
        for _ in range(25):
            p = 1 / (1 + np.exp(-x @ c))
            grad = x.T @ (p - y) + reg @ c
            hess = (x * (p * (1 - p))[:, None]).T @ x + reg + 1e-9 * np.eye(len(c))
            c -= np.linalg.solve(hess, grad)
        self.coef = c
        return c

    # --- evidence for prompts of users without history ---------------------------------------------
    def evidence(self, user: int) -> str:
        """The prompt's evidence for a user without history (the item-level part of K enters
        as the prior score)."""
        age, gender, occ = self._groups(user)
        dev = self.user_genre_deviation(user)
        names = sorted(self.genre_index, key=lambda g: -dev[self.genre_index[g]])[:2]
        return (f"Knowledge: users like you ({age}, {gender}, {occ}) most like "
                f"{' and '.join(names)} films.")
