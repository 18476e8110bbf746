"""Statistics for comparing recommenders: paired tests, corrections, effect sizes, CIs, W/T/L.

One module per job, scipy underneath, two-sided by default and seeded explicitly:

- ``pairing``: per-user values of two runs matched by user id (never by position).
- ``paired``: paired t-test, Wilcoxon signed-rank and paired randomization (sign-flip) test.
- ``bootstrap``: bootstrap confidence interval of the mean paired difference.
- ``effect``: paired Cohen's d (d_z) and the matched-pairs rank-biserial correlation.
- ``corrections``: Holm-Bonferroni and Benjamini-Hochberg adjusted p-values.
- ``wtl``: win / tie / loss counts.
- ``seeds``: mean +- std over seeds and a paired test over seeds.
- ``weighted``: the same for a weighted mean over users (GAUC): weighted t, sign-flip, bootstrap.

RecBole's ``significance_test.py`` runs a one-sided 'less' test, where a small p means "ours is
*worse*"; every function here defaults to ``alternative="two-sided"`` to avoid that trap.
"""
