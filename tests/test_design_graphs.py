"""Graph metrics for gene circuits: canonical codes against networkx and Burnside counts, validity against networkx,
uniqueness and novelty on hand batches, the two baselines' statistics and determinism."""

import math
from itertools import combinations, permutations

import networkx as nx
import pytest
import torch

from gankit.design.circuits import enumerate_circuits
from gankit.design.graphs import (
    canonical_codes,
    edge_density,
    novel,
    random_circuits,
    single_edge_mutations,
    uniqueness,
    valid,
)

REPRESSILATOR = torch.tensor([[0, 0, -1], [-1, 0, 0], [0, -1, 0]])  # ring 0 ⊣ 1 ⊣ 2 ⊣ 0
REVERSED_RING = REPRESSILATOR.T.clone()  # ring 0 ⊣ 2 ⊣ 1 ⊣ 0
ONE_ACTIVATION = torch.tensor([[0, 0, 1], [-1, 0, 0], [0, -1, 0]])  # 2 → 0 activates, the rest represses
TOGGLE_PLUS_OUTPUT = torch.tensor([[0, -1, 0], [-1, 0, 0], [1, 0, 0]])  # toggle 0 ⊣⊢ 1, output 0 → 2
SELF_LOOP_AND_TOGGLE = torch.tensor([[1, 0, 0], [0, 0, -1], [0, -1, 0]])  # gene 0 alone, toggle 1 ⊣⊢ 2


def digraph(w: torch.Tensor) -> nx.DiGraph:
    """networkx graph of one circuit: edge j → i with attribute sign = W[i, j], self-loops included."""
    g = nx.DiGraph()
    g.add_nodes_from(range(w.shape[0]))
    g.add_edges_from((j, i, {"sign": int(w[i, j])}) for i in range(w.shape[0]) for j in range(w.shape[0]) if w[i, j])
    return g


def nx_isomorphic(a: torch.Tensor, b: torch.Tensor) -> bool:
    return nx.is_isomorphic(digraph(a), digraph(b), edge_match=lambda x, y: x["sign"] == y["sign"])


def relabel(w: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """P W Pᵀ: gene perm[a] is called a."""
    return w[perm][:, perm]


def burnside_classes(n: int) -> int:
    """Isomorphism classes of n-gene signed circuits: the mean over relabellings σ of 3^(orbits of σ on entries)."""
    total = 0
    for sigma in permutations(range(n)):
        seen, orbits = set(), 0
        for start in ((i, j) for i in range(n) for j in range(n)):
            if start not in seen:
                orbits += 1
                entry = start
                while entry not in seen:
                    seen.add(entry)
                    entry = (sigma[entry[0]], sigma[entry[1]])
        total += 3**orbits
    return total // math.factorial(n)


@pytest.mark.parametrize("n", [3, 4])
def test_codes_agree_with_networkx_isomorphism_on_all_pairs(n):
    g = torch.Generator().manual_seed(n)
    base = torch.cat([random_circuits(n, 10, density, seed=n * 10 + k) for k, density in enumerate((0.15, 0.3, 0.5))])
    copies = torch.stack([relabel(w, torch.randperm(n, generator=g)) for w in base])
    circuits = torch.cat([base, copies])  # 60, with every base circuit's relabelled copy
    codes = canonical_codes(circuits).tolist()
    same = 0
    for a, b in combinations(range(len(circuits)), 2):
        expected = nx_isomorphic(circuits[a], circuits[b])
        assert (codes[a] == codes[b]) == expected, (circuits[a], circuits[b])
        same += expected
    assert same >= 30  # the 30 constructed pairs at least, so both directions are exercised


def test_hand_cases_of_isomorphism():
    # the ring reversed is the same ring: swapping the names of genes 1 and 2 maps one onto the other
    assert nx_isomorphic(REPRESSILATOR, REVERSED_RING)
    assert torch.equal(relabel(REPRESSILATOR, torch.tensor([0, 2, 1])), REVERSED_RING)
    codes = canonical_codes(torch.stack([REPRESSILATOR, REVERSED_RING, ONE_ACTIVATION]))
    assert codes[0] == codes[1] and codes[0] != codes[2]
    assert not nx_isomorphic(REPRESSILATOR, ONE_ACTIVATION)
    loops = canonical_codes(torch.tensor([[[1]], [[-1]], [[0]]]))
    assert len(set(loops.tolist())) == 3  # self-activation, self-repression and no edge differ


@pytest.mark.parametrize("n, classes", [(1, 3), (2, 45), (3, 3411)])
def test_all_circuits_fall_into_the_burnside_number_of_classes(n, classes):
    # n = 2: (81 + 9) / 2, the swap fixing W00 = W11 and W01 = W10; n = 3: (3^9 + 3·3^5 + 2·3^3) / 6
    assert burnside_classes(n) == classes
    assert torch.unique(canonical_codes(enumerate_circuits(n))).numel() == classes


def test_codes_do_not_depend_on_the_batch_size():
    circuits = random_circuits(5, 300, 0.3, seed=1)
    assert torch.equal(canonical_codes(circuits, batch_size=7), canonical_codes(circuits))


def test_validity_on_hand_cases():
    no_input = torch.tensor([[0, -1, 1], [-1, 0, 0], [0, 0, 0]])  # toggle 0 ⊣⊢ 1 and 2 → 0: nothing regulates 2
    converging = torch.tensor([[1, 0, 0], [1, 0, -1], [0, 0, 1]])  # 0 → 1 ⊣ 2, self-loops on 0 and 2
    batch = torch.stack([REPRESSILATOR, SELF_LOOP_AND_TOGGLE, no_input, TOGGLE_PLUS_OUTPUT, converging])
    # the converging circuit is weakly but not strongly connected: directions are ignored for connectivity
    assert valid(batch).tolist() == [True, False, False, True, True]
    assert valid(torch.tensor([[[1]], [[0]]])).tolist() == [True, False]  # one gene: connected, regulated iff a loop


@pytest.mark.parametrize("n", [3, 4, 5])
def test_validity_agrees_with_networkx(n):
    circuits = torch.cat([random_circuits(n, 35, density, seed=n) for density in (0.15, 0.25)])
    expected = [nx.is_weakly_connected(g) and min(d for _, d in g.in_degree()) > 0 for g in map(digraph, circuits)]
    assert valid(circuits).tolist() == expected
    assert 0 < sum(expected) < len(expected)  # both outcomes occur


def test_uniqueness_counts_classes_among_valid_circuits():
    relabelled = relabel(REPRESSILATOR, torch.tensor([2, 0, 1]))
    batch = torch.stack([REPRESSILATOR, relabelled, TOGGLE_PLUS_OUTPUT, SELF_LOOP_AND_TOGGLE])
    assert uniqueness(batch) == pytest.approx(2 / 3)  # 3 valid, 2 classes; the disconnected one is left out
    assert uniqueness(SELF_LOOP_AND_TOGGLE[None]) == 0.0


def test_novelty_against_a_library():
    library = torch.stack([REPRESSILATOR, TOGGLE_PLUS_OUTPUT])
    batch = torch.stack([REVERSED_RING, ONE_ACTIVATION, relabel(TOGGLE_PLUS_OUTPUT, torch.tensor([1, 2, 0]))])
    assert novel(batch, library).tolist() == [False, True, False]
    with pytest.raises(ValueError, match="genes"):
        novel(batch, torch.zeros(1, 4, 4))


def test_edge_density_is_the_share_of_non_zero_entries():
    assert edge_density(torch.stack([REPRESSILATOR, SELF_LOOP_AND_TOGGLE])) == pytest.approx(6 / 18)


@pytest.mark.parametrize("density", [0.1, 0.4])
def test_random_circuits_have_the_asked_density_and_balanced_signs(density):
    circuits = random_circuits(4, 2000, density, seed=3)
    assert circuits.shape == (2000, 4, 4) and circuits.dtype == torch.int8
    entries = circuits.numel()
    assert abs(edge_density(circuits) - density) < 4 * math.sqrt(density * (1 - density) / entries)
    nonzero = int((circuits != 0).sum())
    assert abs(int((circuits == 1).sum()) / nonzero - 0.5) < 4 * math.sqrt(0.25 / nonzero)
    assert torch.equal(circuits, random_circuits(4, 2000, density, seed=3))
    assert not torch.equal(circuits, random_circuits(4, 2000, density, seed=4))


def test_single_edge_mutations_change_exactly_one_entry_of_a_library_circuit():
    library = random_circuits(4, 20, 0.3, seed=5)
    mutants = single_edge_mutations(library, 500, seed=6)
    distance = (mutants[:, None] != library[None]).flatten(2).sum(-1)  # (500, 20) Hamming distances
    assert (distance == 1).any(-1).all()
    assert torch.equal(mutants, single_edge_mutations(library, 500, seed=6))
    assert not torch.equal(mutants, single_edge_mutations(library, 500, seed=7))
    # from the empty circuit every mutant is one edge, of either sign, at any of the 16 places
    single = single_edge_mutations(torch.zeros(1, 4, 4), 800, seed=8)
    assert ((single != 0).flatten(1).sum(-1) == 1).all()
    assert (single != 0).sum(0).min() > 0 and abs(int((single == 1).sum()) / 800 - 0.5) < 4 * math.sqrt(0.25 / 800)


def test_wrong_input_is_refused():
    with pytest.raises(ValueError, match=r"\(C, n, n\)"):
        valid(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"\(C, n, n\)"):
        canonical_codes(REPRESSILATOR)
    with pytest.raises(ValueError, match="-1"):
        canonical_codes(torch.full((1, 3, 3), 2))
    with pytest.raises(ValueError, match="density"):
        random_circuits(3, 10, 1.5, seed=0)
    with pytest.raises(ValueError, match="library"):
        single_edge_mutations(torch.zeros(0, 3, 3), 5, seed=0)
