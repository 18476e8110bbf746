"""RecExplainer's explanations: leave-one-out attribution over the history, or generation.

Attribution asks the aligned LM how much each shown history title supports the recommended item:
support_j = log P(item title | prompt) - log P(item title | prompt without title j) (mean token
log-probabilities, the "next_item" question). The two strongest positive supports are named with
the genres they share with the item; with no positive support the explanation says so. The text
names only titles from the user's history and the item's own genres, so it is grounded by
construction; *which* titles it names is the aligned LM's behaviour, i.e. the explanation is
faithful to the surrogate of the target.
"""

from __future__ import annotations

import numpy as np

from baselines.explainers.recexplainer_prompts import PromptBuilder


def _genres(catalog, item: int) -> list[str]:
    from benchmark.explain.silver import attribute_list

    if catalog is None or catalog.items is None or "genres" not in catalog.items:
        return []
    return attribute_list(catalog.items["genres"].iloc[item])


def attribution_texts(model, users: np.ndarray, items: np.ndarray) -> list[str]:
    from baselines.explainers.recexplainer_lm import answer_scores

    prompts: list[list] = []
    spans = []
    for u in users:
        shown = model.recent.get(int(u), [])
        start = len(prompts)
        prompts.append(model.pb.prompt("next_item", user=int(u)))
        for j in range(len(shown)):
            pb = PromptBuilder(model.pb.variant, model.titles,
                               {int(u): shown[:j] + shown[j + 1:]})
            prompts.append(pb.prompt("next_item", user=int(u)))
        spans.append((start, len(prompts)))
    answers = [[model.titles[int(i)]] for u, i in zip(users, items)
               for _ in range(1 + len(model.recent.get(int(u), [])))]
    lp = answer_scores(model.bb, model.soft, model.enc, prompts, answers,
                       model.config.eval_batch_size)[:, 0]
    catalog = model.history.catalog if model.history is not None else None
    out = []
    for (u, i), (a, b) in zip(zip(users, items), spans):
        shown = model.recent.get(int(u), [])
        support = lp[a] - lp[a + 1:b]
        title = model.titles[int(i)]
        best = [shown[j] for j in np.argsort(-support, kind="stable")[:2] if support[j] > 0]
        if not best:
            out.append(f'"{title}" is suggested from your history as a whole; no single film '
                       "you watched stands out as the reason.")
            continue
        named = " and ".join(f'"{model.titles[j]}"' for j in best)
        item_g = _genres(catalog, int(i))
        shared = [g for g in item_g if any(g in _genres(catalog, j) for j in best)][:2]
        tail = f", which share its {' and '.join(shared)} side" if shared else ""
        out.append(f'"{title}" is suggested because you watched {named}{tail}.')
    return out


def generated_texts(model, users: np.ndarray, items: np.ndarray) -> list[str]:
    from benchmark.llm.soft_prompts import greedy

    rows = []
    for u, i in zip(users, items):
        rows.append(model.enc.encode(model.pb.prompt("explain", user=int(u), item=int(i))))
    tok = model.bb.tokenizer
    out = []
    for start in range(0, len(rows), model.config.eval_batch_size):
        got = greedy(model.bb, model.soft, rows[start:start + model.config.eval_batch_size],
                     model.config.max_new_tokens, [tok.eos_token_id])
        out += [tok.decode(g, skip_special_tokens=True).strip() for g in got]
    return out
