"""Text embeddings and nearest-neighbour search behind one small interface. NumPy only, no Django import.

Default backend ``wordllama``: the static token embeddings that ship inside
the ``wordllama`` wheel (``l2_supercat_256``: 32,000 tokens x 256 dimensions,
16 MB of float16, plus its tokenizer), mean-pooled over a text's tokens. The
files are read straight from the installed package with ``safetensors`` and
``tokenizers``; nothing is ever downloaded (wordllama's own loader looks for
the tokenizer in a folder the wheel does not have and then goes to the
network, so it is not used). Fallback backend ``hashing``: hashed word and
character n-gram features (sublinear term frequency) in a fixed number of
dimensions; IDF weights are applied per index (``tfidf``), computed from the
indexed corpus itself. Optional heavy backend ``sentence-transformers``: a
sentence-embedding model (all-MiniLM-L6-v2 by default) when that package and
its weights are installed.
"""

from __future__ import annotations

import html
import importlib.util
import math
import re
import zlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

_TAGS = re.compile(r"<[^>]+>")
_WORD = re.compile(r"\w+", re.UNICODE)


def clean_text(text: str, limit: int | None = None) -> str:
    """Plain lower-case text: HTML tags and entities removed, whitespace collapsed, optionally cut."""
    text = html.unescape(_TAGS.sub(" ", text or "")).lower()
    text = " ".join(text.split())
    return text[:limit] if limit else text


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """float32 matrix (len(texts), dim), rows L2-normalised (zero rows for empty texts)."""
        ...


def _bucket(feature: str, dim: int) -> tuple[int, float]:
    h = zlib.crc32(feature.encode("utf-8"))
    # The top bit gives a sign so that colliding features cancel instead of piling up.
    return h % dim, (1.0 if h & 0x80000000 else -1.0)


class HashingEmbedder:
    """Hashed n-gram vectors: each word (weight 1) and its character 3- and 4-grams (weight 0.5 shared)."""

    name = "hashing"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self._word_features = lru_cache(maxsize=200_000)(self._features_of_word)

    def _features_of_word(self, word: str) -> tuple[tuple[int, float], ...]:
        acc: dict[int, float] = {}
        idx, sign = _bucket("w:" + word, self.dim)
        acc[idx] = acc.get(idx, 0.0) + sign
        padded = f"<{word}>"
        grams = [padded[i : i + n] for n in (3, 4) for i in range(len(padded) - n + 1)]
        if grams:
            weight = 1.0 / math.sqrt(len(grams))  # long words do not drown short ones
            for gram in grams:
                idx, sign = _bucket("c:" + gram, self.dim)
                acc[idx] = acc.get(idx, 0.0) + sign * weight
        return tuple(acc.items())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            counts: dict[str, int] = {}
            for word in _WORD.findall(clean_text(text)):
                counts[word] = counts.get(word, 0) + 1
            vec = out[row]
            for word, tf in counts.items():
                weight = 1.0 + math.log(tf)
                for idx, value in self._word_features(word):
                    vec[idx] += value * weight
        return normalise_rows(out)


WORDLLAMA_MODEL = "l2_supercat_256"
WORDLLAMA_MAX_TOKENS = 256  # wordllama's own truncation


def wordllama_files(model: str = WORDLLAMA_MODEL) -> tuple[Path, Path]:
    """The weights and tokenizer files packaged inside the installed ``wordllama`` wheel."""
    spec = importlib.util.find_spec("wordllama")  # located, not imported: its __init__ pulls in pydantic and requests
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the wordllama package is not installed (pip install -r requirements.txt)")
    root = Path(next(iter(spec.submodule_search_locations)))
    family = model.rsplit("_", 1)[0]  # l2_supercat_256 -> l2_supercat
    weights = root / "weights" / f"{model}.safetensors"
    tokenizer = root / "tokenizers" / f"{family}_tokenizer_config.json"
    for path in (weights, tokenizer):
        if not path.is_file():
            raise RuntimeError(f"{path} is missing from the installed wordllama package")
    return weights, tokenizer


class WordLlamaEmbedder:
    """Mean of the packaged static token embeddings (wordllama's ``embed(norm=True)``), read offline."""

    name = "wordllama"

    def __init__(self, model: str = WORDLLAMA_MODEL) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        weights, tokenizer = wordllama_files(model)
        self.table = load_file(str(weights))["embedding.weight"].astype(np.float32)
        self.dim = int(self.table.shape[1])
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(WORDLLAMA_MAX_TOKENS)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        encoded = self.tokenizer.encode_batch([clean_text(t, 4000) for t in texts], add_special_tokens=False)
        return [e.ids for e in encoded]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, ids in enumerate(self.token_ids(texts)):
            if ids:
                out[row] = self.table[ids].mean(axis=0)
        return normalise_rows(out)


class SentenceTransformerEmbedder:
    """A sentence-transformers model (optional dependency; loaded on first use)."""

    name = "sentence-transformers"

    def __init__(self, model_name: str = "all-MiniLM-L6-v2") -> None:
        from sentence_transformers import SentenceTransformer  # optional extra, imported only when selected

        self.model = SentenceTransformer(model_name, device="cpu")
        self.dim = int(self.model.get_sentence_embedding_dimension())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            [clean_text(t, 2000) for t in texts], normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


BACKENDS = ("wordllama", "hashing", "sentence-transformers")


def make_embedder(backend: str, *, dim: int = 256, model_name: str = "all-MiniLM-L6-v2") -> Embedder:
    """The embedder called ``backend`` ("wordllama", "hashing" or "sentence-transformers")."""
    if backend == "wordllama":
        return WordLlamaEmbedder()
    if backend == "hashing":
        return HashingEmbedder(dim)
    if backend == "sentence-transformers":
        return SentenceTransformerEmbedder(model_name)
    raise ValueError(f"unknown embedding backend {backend!r}")


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32, copy=False)


def idf_weights(matrix: np.ndarray) -> np.ndarray:
    """Smoothed inverse document frequency per dimension of a hashed-feature matrix."""
    n = matrix.shape[0]
    df = np.count_nonzero(matrix, axis=0)
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


def tfidf(matrix: np.ndarray, idf: np.ndarray | None) -> np.ndarray:
    """Rows reweighted by ``idf`` and re-normalised (identity when ``idf`` is None)."""
    if idf is None:
        return matrix
    return normalise_rows(matrix * idf)


def top_k(
    matrix: np.ndarray, query: np.ndarray, k: int, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosine scores of the ``k`` rows most similar to ``query`` (rows and query normalised).

    ``mask`` (bool per row) removes rows from consideration. Brute force: one
    matrix-vector product, a few milliseconds for 100,000 x 256 float32.
    """
    return top_k_scores(matrix @ query, k, mask)


def top_k_scores(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of precomputed scores (so one product's similarities serve several searches).

    Ties are broken by the lower index, so the answer does not depend on how
    argpartition happens to order equal scores: the one-product and the batch
    recommendation paths, which search different slices of the same scores,
    must choose the same rows.
    """
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    kth = scores[np.argpartition(-scores, k - 1)[k - 1]]
    # every row tied with the k-th too (ascending); only the finite ones when fewer than k are
    part = np.flatnonzero(scores >= kth) if np.isfinite(kth) else np.flatnonzero(np.isfinite(scores))
    order = part[np.argsort(-scores[part], kind="stable")][:k]
    return order, scores[order]
