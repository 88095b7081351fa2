"""Realism of inpainted images, beside PSNR: kernel (and Frechet) distances in an ImageNet network's feature
space and weight-free sharpness ratios. PSNR rewards blur; these punish it (and periodic artefacts)."""
