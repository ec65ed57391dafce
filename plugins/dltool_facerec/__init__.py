"""dltool facerec: face verification and recognition with 128-d encodings and triplet loss."""

import dltool


@dltool.hookimpl
def register_commands(commands):
    commands.add_lazy(
        "facerec",
        "dltool_facerec.cli:app",
        help="Face recognition: dlib 128-d encodings, a face database, verify, identify, triplets.",
    )


@dltool.hookimpl
def register_models(models):
    models.add(
        "facenet-small",
        "dltool_facerec.facenet:facenet_small",
        description="Inception-ResNet-style face encoder, 128-d L2-normalized embedding",
        input_size=(3, 96, 96),
    )


@dltool.hookimpl
def register_artifacts(artifacts):
    from dltool_facerec.weights import DLIB_MMOD, DLIB_RESNET

    artifacts.add(DLIB_RESNET)
    artifacts.add(DLIB_MMOD)
