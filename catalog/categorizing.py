"""Category suggestion: ranking a shop's leaf categories for a product. NumPy only, no Django import.

Three signals, each a cosine in [-1, 1] per (product, leaf):

* meaning: the product's embedding (any ``embeddings.Embedder``) against each
  node's embedding of its path and name ("Kitchen & Dining > Coffee Mugs"),
  the leaf's own score blended with its ancestors' (a mug that looks like
  "Kitchen & Dining" but not like any one of its leaves still leans there);
* spelling: character 3- and 4-gram TF-IDF between the product's title and
  the leaf's path, which catches shared word stems the embedding vocabulary
  splits badly ("curtain"/"curtains", brand-like compounds);
* the shop's own assignments (few-shot): when the merchant has put some
  products into categories, a nearest-neighbour vote over those products and
  a per-leaf centroid of their vectors. Labels outweigh the zero-shot prior
  as they accumulate.

A product's hint (``suggested_category_name``: Shopify's product_type) is
embedded and matched like the title, with more weight: it is the shop's own
word for the category. Weights are plain constants chosen once for every data
set, not per file (bench/catalog_quality.py measures them on each).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from catalog.embeddings import clean_text, normalise_rows

Embed = Callable[[Sequence[str]], np.ndarray]

ANCESTOR_WEIGHT = 0.3  # share of a leaf's meaning score taken from its ancestors (mean)
CHAR_WEIGHT = 0.3  # spelling against meaning
HINT_WEIGHT = 0.6  # the product_type hint against the title, when the product has one
DESCRIPTION_WEIGHT = 0.4  # the description's embedding against the title's
# A brand on more than this share of the products ranked together is the shop's own name, not a word about the
# product's kind: it is left out of their texts (a single-brand shop's name, in every title and description,
# pulled them all toward whichever category it resembles: "My Lubie" toward "Lubrifiant").
SHARED_BRAND_SHARE = 0.5
TEMPERATURE = 20.0  # cosine differences to probabilities: 0.05 apart is e times as likely
SMOOTH_NEIGHBOURS = 20  # products whose scores a product's scores are averaged with
CENTROID_WEIGHT = 1.0  # similarity to the centroid of the products leaning to a leaf
LABEL_BONUS = 1.0  # a merchant's label as a cosine bonus before smoothing
NEIGHBOURS = 10  # labelled products that vote
VOTE_SHARPNESS = 4.0  # votes weigh similarity**sharpness: the closest labelled products decide
LABEL_PRIOR = 100.0  # labelled products at which the shop's labels weigh as much as the zero-shot ranking
SUGGESTIONS = 5
MEANING_PATH_DEPTH = 1  # ancestors named in a node's meaning text (its parent)
CALIBRATION_FOLDS = 5  # the shop's labelled products are ranked in this many held-out folds to calibrate
CALIBRATION_MIN_LABELS = 50  # fewer labelled products: the conservative default instead
CALIBRATION_BINS = 10  # raw-score bins of the held-out reliability table (merged until accuracy rises)
# Without enough labels a raw probability is scaled by this: measured zero-shot (bench/catalog_quality.py,
# Flipkart), the ranker's most confident answers (raw >= 0.9) were right about two times in three.
DEFAULT_RELIABILITY = 0.7

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Node:
    """A category of the tree: its name, optional description and parent's row (None for a root)."""

    name: str
    description: str = ""
    parent: int | None = None


@dataclass(frozen=True)
class ProductText:
    title: str
    brand: str = ""
    description: str = ""
    hint: str = ""  # suggested_category_name / product_type


def ancestors_of(nodes: Sequence[Node]) -> list[list[int]]:
    """Each node's ancestors' rows, nearest first (cycles guarded)."""
    out = []
    for i in range(len(nodes)):
        chain, seen, p = [], {i}, nodes[i].parent
        while p is not None and p not in seen and 0 <= p < len(nodes):
            chain.append(p)
            seen.add(p)
            p = nodes[p].parent
        out.append(chain)
    return out


def node_texts(nodes: Sequence[Node], ancestors: Sequence[Sequence[int]], depth: int | None = None) -> list[str]:
    """A node as text: its path from the root (or from its ``depth``-th ancestor), its name again, its description.

    A description that only repeats the path or the name is left out (Sortillus shops often send the path
    as ``en_description``); repeating it would let the ancestors' words drown the node's own.
    """
    out = []
    for i, n in enumerate(nodes):
        chain = list(reversed(ancestors[i]))
        full = " > ".join([*(nodes[a].name for a in chain), n.name])
        if depth is not None:
            chain = chain[len(chain) - depth :] if depth else []
        path = " > ".join([*(nodes[a].name for a in chain), n.name])
        description = n.description if clean_text(n.description) not in (clean_text(full), clean_text(n.name)) else ""
        out.append(f"{path} {n.name} {description}".rstrip())
    return out


# ---- character n-gram TF-IDF (sparse, NumPy) -----------------------------------------------------


def char_grams(text: str) -> dict[str, float]:
    """Sublinear counts of the 3- and 4-grams of each word padded with spaces (scikit-learn's ``char_wb``)."""
    counts: dict[str, float] = {}
    for word in _WORD.findall(clean_text(text)):
        padded = f" {word} "
        for n in (3, 4):
            for i in range(len(padded) - n + 1):
                g = padded[i : i + n]
                counts[g] = counts.get(g, 0.0) + 1.0
    return {g: 1.0 + math.log(c) for g, c in counts.items()}


class CharTfidf:
    """Character n-gram TF-IDF of a fixed set of documents, searchable by cosine.

    The vocabulary and IDF come from the documents themselves; a query's grams
    outside the vocabulary still count in its norm (with the highest IDF), so
    a long query that shares one gram is not mistaken for a close one.
    """

    def __init__(self, documents: Sequence[str]) -> None:
        grams = [char_grams(d) for d in documents]
        vocab: dict[str, int] = {}
        df: list[int] = []
        for doc in grams:
            for g in doc:
                j = vocab.setdefault(g, len(vocab))
                if j == len(df):
                    df.append(0)
                df[j] += 1
        n = len(documents)
        self.vocab = vocab
        self.idf = np.log((1.0 + n) / (1.0 + np.asarray(df, dtype=np.float64))) + 1.0
        self.unseen_idf = math.log(1.0 + n) + 1.0
        self.n = n
        # postings per gram: (document rows, normalised weights)
        rows: list[list[int]] = [[] for _ in vocab]
        vals: list[list[float]] = [[] for _ in vocab]
        for r, doc in enumerate(grams):
            weights = {vocab[g]: tf * self.idf[vocab[g]] for g, tf in doc.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for j, w in weights.items():
                rows[j].append(r)
                vals[j].append(w / norm)
        self.rows = [np.asarray(r, dtype=np.int64) for r in rows]
        self.vals = [np.asarray(v, dtype=np.float64) for v in vals]

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Cosine of each text with every document: (len(texts), n)."""
        out = np.zeros((len(texts), self.n), dtype=np.float64)
        for i, text in enumerate(texts):
            grams = char_grams(text)
            if not grams:
                continue
            norm2 = 0.0
            row = out[i]
            for g, tf in grams.items():
                j = self.vocab.get(g)
                w = tf * (self.idf[j] if j is not None else self.unseen_idf)
                norm2 += w * w
                if j is not None:
                    row[self.rows[j]] += w * self.vals[j]
            row /= math.sqrt(norm2)
        return out


# ---- the model ----------------------------------------------------------------------------------


def _product_vectors(embed: Embed, products: Sequence[ProductText]) -> tuple[np.ndarray, np.ndarray]:
    """(text vectors, hint vectors): title+brand blended with the description; the hint alone (zero when none)."""
    titles = embed([f"{p.title} {p.brand}".strip() for p in products])
    described = [i for i, p in enumerate(products) if p.description.strip()]
    if described:
        desc = embed([clean_text(products[i].description, 300) for i in described])
        titles = titles.copy()
        titles[described] = (1 - DESCRIPTION_WEIGHT) * titles[described] + DESCRIPTION_WEIGHT * desc
    hinted = [i for i, p in enumerate(products) if p.hint.strip()]
    hints = np.zeros_like(titles)
    if hinted:
        hints[hinted] = embed([products[i].hint for i in hinted])
    return normalise_rows(titles), hints


def without_shared_brand(products: Sequence[ProductText]) -> list[ProductText]:
    """The products with a brand that most of them carry (``SHARED_BRAND_SHARE``, and at least two) taken out:
    the brand field cleared where it is that brand, and its words removed from every title and description (whole
    words: "United By Blue" in another brand's description too)."""
    counts = Counter(clean_text(p.brand) for p in products if p.brand.strip())
    shared = [b for b, c in counts.items() if c >= 2 and c > SHARED_BRAND_SHARE * len(products)]
    if not shared:
        return list(products)
    pattern = re.compile(
        r"\b(?:" + "|".join(re.escape(b) for b in sorted(shared, key=len, reverse=True)) + r")\b", re.I
    )

    def strip(text: str) -> str:
        return " ".join(pattern.sub(" ", text).split())

    return [
        ProductText(
            title=strip(p.title),
            brand="" if clean_text(p.brand) in shared else p.brand,
            description=strip(p.description),
            hint=p.hint,
        )
        for p in products
    ]


class Categorizer:
    """Ranks the leaves of one category tree for products, optionally learning from labelled products."""

    def __init__(self, nodes: Sequence[Node], embed: Embed) -> None:
        self.nodes = list(nodes)
        self.embed = embed
        self.ancestors = ancestors_of(self.nodes)
        has_child = {n.parent for n in self.nodes if n.parent is not None}
        self.leaves = np.array([i for i in range(len(self.nodes)) if i not in has_child], dtype=np.int64)
        texts = node_texts(self.nodes, self.ancestors)
        # Meaning: a node with its parent only (the ancestors further up come in through ``mix``); a long
        # mean-pooled path is mostly the upper levels' words, so deep leaves of a big tree all looked alike.
        # Spelling keeps the whole path (shared stems anywhere in it count).
        meaning_texts = node_texts(self.nodes, self.ancestors, depth=MEANING_PATH_DEPTH)
        self.node_vectors = embed(meaning_texts) if texts else np.zeros((0, 1), dtype=np.float32)
        self.chars = CharTfidf([texts[i] for i in self.leaves])
        # leaf x node matrix averaging each leaf's ancestors (identity when a leaf is a root)
        mix = np.zeros((len(self.leaves), len(self.nodes)), dtype=np.float32)
        for k, leaf in enumerate(self.leaves):
            anc = self.ancestors[int(leaf)]
            mix[k, leaf] = 1 - ANCESTOR_WEIGHT if anc else 1.0
            for a in anc:
                mix[k, a] += ANCESTOR_WEIGHT / len(anc)
        self.mix = mix
        self.leaf_of = {int(leaf): k for k, leaf in enumerate(self.leaves)}

    def product_vectors(self, products: Sequence[ProductText]) -> np.ndarray:
        """What labelled and queried products are compared by: the text vectors with the hint blended in."""
        text, hint = _product_vectors(self.embed, without_shared_brand(products))
        has_hint = np.linalg.norm(hint, axis=1) > 0
        text[has_hint] = (1 - HINT_WEIGHT) * text[has_hint] + HINT_WEIGHT * hint[has_hint]
        return normalise_rows(text)

    def zero_shot(self, products: Sequence[ProductText], vectors: np.ndarray | None = None) -> np.ndarray:
        """(len(products), leaves) scores from the tree alone."""
        vectors = self.product_vectors(products) if vectors is None else vectors
        meaning = (vectors @ self.node_vectors.T) @ self.mix.T
        spelling = self.chars.scores([f"{p.title} {p.hint}".strip() for p in products])
        # Each side weighs by how clearly it picks a leaf (its best leaf's lead over the second), scaled by
        # CHAR_WEIGHT: when the word model knows little of a text (French titles, brand compounds) its
        # cosines come out flat and the spelling side decides; when spelling matches nothing it steps back.
        gm, gs = _gap(meaning), _gap(spelling)
        w = CHAR_WEIGHT * gs / np.maximum(CHAR_WEIGHT * gs + (1 - CHAR_WEIGHT) * gm, 1e-9)
        w = np.where(gs + gm > 0, w, CHAR_WEIGHT)[:, None]
        return (1 - w) * meaning + w * spelling

    def rank(
        self,
        products: Sequence[ProductText],
        *,
        labelled: Sequence[ProductText] = (),
        labels: Sequence[int] = (),
        limit: int = SUGGESTIONS,
    ) -> list[list[tuple[int, float]]]:
        """Per product, the best ``limit`` leaves as (node row, score in [0, 1]), best first.

        ``labelled``/``labels``: products the shop has put into categories (node
        rows; labels that are not leaves are ignored). The products ranked together
        inform each other: a product's scores are smoothed with those of its
        nearest neighbours (labelled ones count with their label), then each leaf
        is also compared with the centroid of the products that lean to it.
        """
        if not len(self.leaves) or not products:
            return [[] for _ in products]
        keep = [i for i, n in enumerate(labels) if int(n) in self.leaf_of]
        labelled = [labelled[i] for i in keep]
        label_cols = np.array([self.leaf_of[int(labels[i])] for i in keep], dtype=np.int64)
        n, m = len(products), len(labelled)
        vectors = self.product_vectors([*products, *labelled])
        scores = self.zero_shot([*products, *labelled], vectors)
        onehot = np.zeros((m, len(self.leaves)))
        onehot[np.arange(m), label_cols] = 1.0
        scores[n:] += LABEL_BONUS * onehot
        scores = _smooth(scores, vectors)
        # leaf centroids: the products' leanings (softmax), labelled products by their label
        lean = _softmax(scores)
        lean[n:] = onehot
        centroids = normalise_rows((lean.T @ vectors).astype(np.float32))
        scores = scores + CENTROID_WEIGHT * (vectors @ centroids.T)
        probs = _softmax(scores[:n])
        if m:
            weight = m / (m + LABEL_PRIOR)
            probs = (1 - weight) * probs + weight * _votes(vectors[:n], vectors[n:], label_cols, len(self.leaves))
        k = min(limit, len(self.leaves))
        out = []
        for row in probs:
            best = np.argsort(-row, kind="stable")[:k]
            out.append([(int(self.leaves[j]), float(row[j])) for j in best])
        return out


def _gap(scores: np.ndarray) -> np.ndarray:
    """Per row, how far the best column stands above the second (0 with fewer than two columns)."""
    if scores.shape[1] < 2:
        return np.zeros(len(scores))
    top = np.partition(scores, scores.shape[1] - 2, axis=1)[:, -2:]
    return top[:, 1] - top[:, 0]


def _softmax(scores: np.ndarray) -> np.ndarray:
    p = np.exp(TEMPERATURE * (scores - scores.max(axis=1, keepdims=True)))
    return p / p.sum(axis=1, keepdims=True)


def _smooth(scores: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Each row averaged with its ``SMOOTH_NEIGHBOURS`` nearest rows' (similarity-weighted), half and half."""
    n = len(vectors)
    if n < 2:
        return scores
    k = min(SMOOTH_NEIGHBOURS, n - 1)
    out = np.empty_like(scores)
    for start in range(0, n, 2048):  # bounded memory: a block of similarities at a time
        block = vectors[start : start + 2048] @ vectors.T
        block[np.arange(len(block)), np.arange(start, start + len(block))] = -np.inf
        nearest = np.argpartition(-block, k - 1, axis=1)[:, :k]
        w = np.clip(np.take_along_axis(block, nearest, axis=1), 0.0, None)
        w /= np.maximum(w.sum(axis=1, keepdims=True), 1e-9)
        out[start : start + len(block)] = np.einsum("ik,ikl->il", w, scores[nearest])
    return (scores + out) / 2


def _votes(vectors: np.ndarray, labelled: np.ndarray, cols: np.ndarray, n_leaves: int) -> np.ndarray:
    """(len(vectors), leaves) votes of the labelled products (rows sum to 1): nearest neighbours and centroids."""
    sims = vectors @ labelled.T
    k = min(NEIGHBOURS, len(labelled))
    nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    w = np.clip(np.take_along_axis(sims, nearest, axis=1), 0.0, None) ** VOTE_SHARPNESS
    votes = np.zeros((len(vectors), n_leaves))
    np.add.at(votes, (np.repeat(np.arange(len(vectors)), k), cols[nearest].ravel()), w.ravel())
    totals = votes.sum(axis=1, keepdims=True)
    votes = np.divide(votes, totals, out=np.zeros_like(votes), where=totals > 0)
    centroids = np.zeros((n_leaves, vectors.shape[1]), dtype=np.float32)
    np.add.at(centroids, cols, labelled)
    has = np.linalg.norm(centroids, axis=1) > 0
    central = np.where(has, vectors @ normalise_rows(centroids).T, -np.inf)
    return 0.5 * votes + 0.5 * _softmax(central)


# ---- calibration --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reliability:
    """Raw ranking probability -> the share of such suggestions that were right (a monotone step table).

    ``edges``: the lower raw score of each step, ascending (the first is the lowest held-out score: below it
    the scaled default, capped by the first step); ``values``: the held-out accuracy of each step.
    Without a table (``edges`` empty) the raw score is scaled by ``scale``.
    """

    edges: tuple[float, ...] = ()
    values: tuple[float, ...] = ()
    scale: float = DEFAULT_RELIABILITY
    measured: int = 0  # held-out suggestions behind the table

    def __call__(self, raw: float) -> float:
        if not self.edges:
            return self.scale * raw
        if raw < self.edges[0]:
            # below every held-out score there is no evidence: the conservative default, never more than
            # the lowest step (a shop whose labelled products all rank easily says nothing of a text that
            # ranks worse than any of them)
            return min(self.scale * raw, self.values[0])
        i = int(np.searchsorted(np.asarray(self.edges), raw, side="right")) - 1
        return self.values[i]


def fit_reliability(raw: Sequence[float], right: Sequence[bool], bins: int = CALIBRATION_BINS) -> Reliability:
    """A step table from held-out (raw top-1 score, was it right) pairs: equal-count bins, then merged
    (pool adjacent violators) until accuracy never falls as the raw score rises; each step is shrunk
    toward the overall accuracy by one pseudo-count so that a small bin does not claim 0 or 1."""
    if not len(raw):
        return Reliability()
    order = np.argsort(np.asarray(raw, dtype=np.float64), kind="stable")
    x = np.asarray(raw, dtype=np.float64)[order]
    y = np.asarray(right, dtype=np.float64)[order]
    prior = float(y.mean())
    chunks = [c for c in np.array_split(np.arange(len(x)), min(bins, len(x))) if len(c)]
    steps = [[float(x[c[0]]), float(y[c].sum()), len(c)] for c in chunks]  # [lower edge, hits, count]
    merged: list[list[float]] = []
    for step in steps:
        merged.append(step)
        while len(merged) > 1 and merged[-2][1] / merged[-2][2] >= merged[-1][1] / merged[-1][2]:
            low, high = merged[-2], merged.pop()
            low[1] += high[1]
            low[2] += high[2]
    return Reliability(
        edges=tuple(s[0] for s in merged),  # the first: the lowest held-out score
        values=tuple((s[1] + prior) / (s[2] + 1) for s in merged),
        measured=len(x),
    )


def held_out(
    categorizer: Categorizer, labelled: Sequence[ProductText], labels: Sequence[int], folds: int = CALIBRATION_FOLDS
) -> tuple[np.ndarray, np.ndarray]:
    """Each labelled product ranked with the other folds' labels: (raw top-1 score, top-1 == its label)."""
    keep = [i for i, n in enumerate(labels) if int(n) in categorizer.leaf_of]
    raw, right = np.zeros(len(keep)), np.zeros(len(keep), dtype=bool)
    for f in range(folds):
        test = keep[f::folds]
        held = set(test)
        train = [i for i in keep if i not in held]
        if not test:
            continue
        ranked = categorizer.rank(
            [labelled[i] for i in test],
            labelled=[labelled[i] for i in train],
            labels=[labels[i] for i in train],
            limit=1,
        )
        for j, (i, best) in enumerate(zip(test, ranked, strict=True)):
            raw[f + j * folds] = best[0][1] if best else 0.0
            right[f + j * folds] = bool(best) and best[0][0] == int(labels[i])
    return raw, right


def reliability(categorizer: Categorizer, labelled: Sequence[ProductText], labels: Sequence[int]) -> Reliability:
    """The shop's own calibration when it has labelled enough products, the conservative default otherwise."""
    usable = sum(1 for n in labels if int(n) in categorizer.leaf_of)
    if usable < CALIBRATION_MIN_LABELS:
        return Reliability()
    return fit_reliability(*held_out(categorizer, labelled, labels))
