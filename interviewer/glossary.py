"""Glossary: common ML abbreviations and the phrases (English and Chinese) they stand for, so
keyword search matches "ROC" with "receiver operating characteristic" and "受试者工作特征".

Written as a general glossary of the field, not from any query set. Abbreviations that are also
ordinary words or mean two things in ML are left out on purpose: "map" (feature map / mean
average precision), "lr" (learning rate / logistic regression), "ln" (layer norm / natural log),
"cv", "lda", "zero", "em"."""

from __future__ import annotations

import hashlib
import json

ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    # metrics
    "roc": ("receiver operating characteristic", "受试者工作特征"),
    "auc": ("area under the curve", "area under curve", "曲线下面积"),
    "tpr": ("true positive rate", "真正例率", "真阳性率"),
    "fpr": ("false positive rate", "假正例率", "假阳性率"),
    "iou": ("intersection over union", "交并比"),
    "mse": ("mean squared error", "mean square error", "均方误差"),
    "mae": ("mean absolute error", "平均绝对误差"),
    "ce": ("cross entropy", "cross-entropy", "交叉熵"),
    "kl": ("kullback-leibler", "kullback leibler", "相对熵"),
    "elbo": ("evidence lower bound", "证据下界"),
    "mle": ("maximum likelihood estimation", "maximum likelihood estimate", "最大似然估计", "极大似然估计"),
    # layers, architectures
    "mlp": ("multilayer perceptron", "multi-layer perceptron", "多层感知机"),
    "cnn": ("convolutional neural network", "卷积神经网络"),
    "rnn": ("recurrent neural network", "循环神经网络"),
    "lstm": ("long short-term memory", "long short term memory", "长短期记忆"),
    "gru": ("gated recurrent unit", "门控循环单元"),
    "bptt": ("backpropagation through time", "随时间反向传播"),
    "relu": ("rectified linear unit", "修正线性单元"),
    "gelu": ("gaussian error linear unit",),
    "bn": ("batch normalization", "batch normalisation", "batchnorm", "批归一化", "批量归一化"),
    "gan": ("generative adversarial network", "生成对抗网络"),
    "vae": ("variational autoencoder", "variational auto-encoder", "变分自编码器"),
    "vit": ("vision transformer",),
    "moe": ("mixture of experts", "混合专家"),
    "ddpm": ("denoising diffusion probabilistic model", "去噪扩散概率模型"),
    "cfg": ("classifier-free guidance", "classifier free guidance", "无分类器引导"),
    # detection and segmentation
    "nms": ("non-maximum suppression", "non maximum suppression", "非极大值抑制"),
    "rpn": ("region proposal network", "区域建议网络", "候选区域网络"),
    "fpn": ("feature pyramid network", "特征金字塔"),
    "roi": ("region of interest", "感兴趣区域"),
    "yolo": ("you only look once",),
    "fcn": ("fully convolutional network", "全卷积网络"),
    # classical ML
    "svm": ("support vector machine", "支持向量机"),
    "pca": ("principal component analysis", "主成分分析"),
    "svd": ("singular value decomposition", "奇异值分解"),
    "knn": ("k-nearest neighbours", "k-nearest neighbors", "k nearest neighbors", "k近邻"),
    "gbdt": ("gradient boosted decision tree", "gradient boosting decision tree", "梯度提升决策树"),
    "crf": ("conditional random field", "条件随机场"),
    "hmm": ("hidden markov model", "隐马尔可夫模型"),
    "smote": ("synthetic minority over-sampling technique", "synthetic minority oversampling technique"),
    # optimisation and training
    "sgd": ("stochastic gradient descent", "随机梯度下降"),
    "ema": ("exponential moving average", "指数移动平均", "指数滑动平均"),
    "fp16": ("half precision", "half-precision", "半精度"),
    "fp32": ("single precision", "single-precision", "单精度"),
    "amp": ("automatic mixed precision", "自动混合精度"),
    "ddp": ("distributed data parallel", "分布式数据并行"),
    "fsdp": ("fully sharded data parallel",),
    "oom": ("out of memory", "out-of-memory", "显存不足", "内存不足"),
    "kd": ("knowledge distillation", "知识蒸馏"),
    "qat": ("quantization-aware training", "quantisation-aware training", "量化感知训练"),
    "ptq": ("post-training quantization", "post-training quantisation", "训练后量化"),
    # language models and reinforcement learning
    "nlp": ("natural language processing", "自然语言处理"),
    "llm": ("large language model", "大语言模型", "大型语言模型"),
    "rag": ("retrieval-augmented generation", "retrieval augmented generation", "检索增强生成"),
    "lora": ("low-rank adaptation", "low rank adaptation", "低秩适配", "低秩适应"),
    "bpe": ("byte pair encoding", "byte-pair encoding", "字节对编码"),
    "rl": ("reinforcement learning", "强化学习"),
    "mdp": ("markov decision process", "马尔可夫决策过程"),
    "dqn": ("deep q-network", "deep q network", "深度q网络"),
    "ppo": ("proximal policy optimization", "proximal policy optimisation", "近端策略优化"),
    "rlhf": ("reinforcement learning from human feedback", "基于人类反馈的强化学习"),
}
"""abbreviation (lowercase) -> the phrases it stands for."""

VERSION = hashlib.sha256(json.dumps(ABBREVIATIONS, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]
"""Changes with the glossary, so indexes built with another glossary are rebuilt."""


__all__ = ["ABBREVIATIONS", "VERSION"]
