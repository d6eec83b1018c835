"""The `domain` kind: domain-adversarial training (DANN) between two digit sets, judged by the accuracy of the
task head on the held-out images of the target domain, whose labels it never trained on (docs/domain.md). With a
decoder as the task (an adversarial autoencoder) no label trains anything, and a linear probe fitted on the
source's labelled features is read on the target's instead.

The source-only baseline is the same run with `loss.weight=0`, the supervised upper bound the same run with
`data.labels=target`: the same networks, steps and data, so the table compares the game alone.

On a table of cells (`data.table`, one domain per batch) the encoder is an MLP and a run is judged by the scIB
integration scores of its embedding of every cell (gankit.metrics.integration; docs/integration.md).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from gankit.config import DomainConfig
from gankit.errors import ConfigError
from gankit.kinds.base import GameKind, PlayerOptimizer, Setup, per_player_optimizers
from gankit.kinds.domain_data import DomainBatches, DomainData, load_domain_data
from gankit.kinds.domain_game import CRITIC, ENCODER, TASK, DomainAdversarialGame, ganin_schedule
from gankit.metrics.evaluate import FeatureOptions, protocol_suffix
from gankit.metrics.integration import integration_scores
from gankit.nn.domain import ConvEncoder, DomainDecoder, FeatureHead, ImageDecoder, TableEncoder
from gankit.sampling import eval_forward

__all__ = ["DomainKind", "build_domain_players", "domain_probe_accuracy", "embed", "evaluate_adaptation",
           "evaluate_integration", "evaluate_domains"]

CLASSES = 10  # both domains are digits


class DomainKind(GameKind):
    name = "domain"

    def check(self, config: DomainConfig) -> None:
        super().check(config)
        if config.train.best_metric is not None:
            raise ConfigError(f"train.best_metric {config.train.best_metric!r} is a score of generated samples; a "
                              "domain run logs eval/target_accuracy_* instead, remove it")

    def build(self, config: DomainConfig, device: torch.device) -> Setup:
        domains = load_domain_data(config.data, config.seed)
        meta = table_meta(domains, config.model.task) if domains.is_table else {}
        players = {name: module.to(device) for name, module in build_domain_players(config, meta).items()}
        steps, loss = config.train.steps, config.loss
        weight = ganin_schedule(loss.weight, steps) if loss.schedule == "ganin" else (lambda step: loss.weight)
        game = DomainAdversarialGame(players[ENCODER], players[TASK], players[CRITIC], weight=weight,
                                     task_kind=config.model.task, critic_loss=loss.critic, gp_weight=loss.gp_weight,
                                     decoder_sees_domain=domains.is_table, encoder_objective=loss.encoder,
                                     critic_sees_class=loss.critic_sees_class)
        batches = DomainBatches(domains, config.train.batch_size, config.seed, device)
        return Setup(game, batches, domains, meta)

    def optimizer_settings(self, config: DomainConfig) -> dict[str, PlayerOptimizer]:
        return per_player_optimizers(config)

    def double_backward(self, config: DomainConfig) -> list[str]:
        return ["loss.critic"] if config.loss.critic == "wasserstein" and config.loss.gp_weight > 0 else []

    def evaluator(
        self, config: DomainConfig, setup: Setup, drawn: dict[str, nn.Module]
    ) -> Callable[[int], dict[str, float]]:
        return lambda step: evaluate_domains(drawn, setup.data, config.model.task)

    def restore(self, config: DomainConfig, meta: dict[str, Any]) -> dict[str, nn.Module]:
        return build_domain_players(config, meta)

    def evaluate(
        self, config: DomainConfig, players: dict[str, nn.Module], meta: dict[str, Any], metrics: Collection[str], *,
        n: int, seed: int, features: FeatureOptions,
    ) -> dict[str, float]:
        """Task accuracy (or reconstruction and a digit probe) on each domain's held-out images, and how well a
        linear probe tells the domains apart; on a table, the integration scores."""
        return evaluate_domains(players, load_domain_data(config.data, config.seed), config.model.task)


def table_meta(domains: DomainData, task_kind: str) -> dict[str, int]:
    """What a checkpoint records to rebuild a table's players: input columns, batches, cell types."""
    if task_kind == "classifier" and not any(bool((labels >= 0).any()) for labels in domains.train_labels):
        raise ConfigError("model.task classifier learns the cell types, but no cell of the table has a label; "
                          "give --label, or set model.task=decoder")
    return {"in_dim": domains.in_dim, "domains": len(domains.names), "classes": len(domains.class_names)}


def build_domain_players(config: DomainConfig, meta: dict[str, Any] | None = None) -> dict[str, nn.Module]:
    """The encoder, the task head (10 digits, or a decoder back to the image) and the domain critic (one score
    per domain; one for Wasserstein). A table's players take their sizes from `meta` (`table_meta`)."""
    model, size = config.model, config.data.image_size
    if config.data.table is not None:
        in_dim, domains, classes = meta["in_dim"], meta["domains"], meta["classes"]
        task = (FeatureHead(model.features, classes, model.hidden) if model.task == "classifier"
                else DomainDecoder(model.features, in_dim, domains, model.hidden))
        seen = classes if config.loss.critic_sees_class else 0
        return {CRITIC: FeatureHead(model.features + seen, domains, model.hidden),
                ENCODER: TableEncoder(in_dim, model.features, model.hidden), TASK: task}
    critic_outputs = 1 if config.loss.critic == "wasserstein" else 2
    seen = CLASSES if config.loss.critic_sees_class else 0
    task = (FeatureHead(model.features, CLASSES, model.hidden) if model.task == "classifier"
            else ImageDecoder(model.features, 1, size, model.hidden))
    return {
        CRITIC: FeatureHead(model.features + seen, critic_outputs, model.hidden),
        ENCODER: ConvEncoder(1, size, model.width, model.features),
        TASK: task,
    }


def embed(players: dict[str, nn.Module], images: Tensor, batch_size: int = 512) -> Tensor:
    """The encoder's features of `images` (eval mode, in batches, on the encoder's device; returned on the CPU)."""
    encoder = players[ENCODER]
    device = next(encoder.parameters()).device
    return torch.cat([eval_forward(encoder, part.to(device)).cpu() for part in images.split(batch_size)])


def evaluate_domains(players: dict[str, nn.Module], domains: DomainData, task_kind: str) -> dict[str, float]:
    """`evaluate_integration` on a table, `evaluate_adaptation` on the digit sets."""
    if domains.is_table:
        return evaluate_integration(players, domains, task_kind)
    return evaluate_adaptation(players, domains, task_kind)


def evaluate_integration(players: dict[str, nn.Module], domains: DomainData, task_kind: str) -> dict[str, float]:
    """On every cell of a table (`<score>_cells_<n>`): the scIB scores of the embedding over the cells of known
    type (`integration_scores`), the domain probe over all cells, and for a classifier its accuracy on the cells
    whose labels did not train (`heldout_label_accuracy`, the semi-supervised transfer)."""
    features = [embed(players, rows) for rows in domains.test_images]
    batches = np.repeat(np.arange(len(features)), [len(f) for f in features])
    cell_types = torch.cat(domains.test_labels).numpy()
    suffix = protocol_suffix(domains.tag, len(batches))
    results = {f"domain_probe_{suffix}": domain_probe_accuracy(features)}
    known = cell_types >= 0
    if len(np.unique(cell_types[known])) >= 2 and len(np.unique(batches[known])) >= 2:
        scores = integration_scores(torch.cat(features).numpy()[known], batches[known], cell_types[known])
        results.update({f"{name}_{suffix}": value for name, value in scores.items()})
    if task_kind == "classifier":
        unseen = known & (torch.cat(domains.train_labels).numpy() < 0)
        if unseen.any():
            task = players[TASK]
            device = next(task.parameters()).device
            predicted = eval_forward(task, torch.cat(features)[unseen].to(device)).argmax(1).cpu().numpy()
            results[f"heldout_label_accuracy_{suffix}"] = float((predicted == cell_types[unseen]).mean())
    return results


def evaluate_adaptation(players: dict[str, nn.Module], domains: DomainData, task_kind: str) -> dict[str, float]:
    """On the held-out images of each domain (`<role>_..._<source>_to_<target>_<n>`, n the target's count):

    - a classifier task: its accuracy (`source_accuracy`, `target_accuracy`);
    - a decoder task: its mean squared reconstruction error (`source_reconstruction`, `target_reconstruction`),
      and the accuracy of a logistic regression fitted on the features of the source's *training* images and
      their labels (`source_probe_accuracy`, `target_probe_accuracy`): what the features still say of the digit;
    - either: the 5-fold balanced accuracy of a logistic regression telling the two domains apart from the
      features (`domain_probe`, 0.5 when aligned, 1 when separable) and the proxy A-distance 2 (1 − 2 ε) of its
      error ε (Ben-David et al. 2010: 0 aligned, 2 separable).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    task = players[TASK]
    device = next(task.parameters()).device
    suffix = protocol_suffix(domains.tag, len(domains.test_images[1]))
    features = [embed(players, images) for images in domains.test_images]
    results = {}
    if task_kind == "decoder":
        digit_probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        digit_probe.fit(embed(players, domains.train_images[0]).numpy(), domains.train_labels[0].numpy())
    for role, feats, images, labels in zip(("source", "target"), features, domains.test_images, domains.test_labels,
                                           strict=True):
        if task_kind == "classifier":
            predicted = eval_forward(task, feats.to(device)).argmax(1).cpu()
            results[f"{role}_accuracy_{suffix}"] = float((predicted == labels).float().mean())
        else:
            error = (eval_forward(task, feats.to(device)).cpu() - images).pow(2).mean()
            results[f"{role}_reconstruction_{suffix}"] = float(error)
            results[f"{role}_probe_accuracy_{suffix}"] = float(digit_probe.score(feats.numpy(), labels.numpy()))
    accuracy = domain_probe_accuracy(features)
    results[f"domain_probe_{suffix}"] = accuracy
    results[f"proxy_a_distance_{suffix}"] = 2 * (1 - 2 * (1 - accuracy))
    return results


def domain_probe_accuracy(features: list[Tensor]) -> float:
    """The 5-fold balanced accuracy of a logistic regression telling the domains (one feature tensor each) apart;
    the folds are shuffled, since the sets are stored in digit order (contiguous folds would test on unseen digits)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    which = np.repeat(np.arange(len(features)), [len(f) for f in features])
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    return float(cross_val_score(probe, torch.cat(features).numpy(), which, cv=folds,
                                 scoring="balanced_accuracy").mean())
