"""dltool facerec: face verification and recognition with 128-d encodings and triplet loss."""

import dltool
from dltool.exports import lazy_exports

_EXPORTS = {
    "FaceDatabase": "dltool_facerec.database:FaceDB",
    "FaceDB": "dltool_facerec.database:FaceDB",
    "Face": "dltool_facerec.encoders:Face",
    "FaceFinder": "dltool_facerec.encoders:FaceFinder",
    "FacePipeline": "dltool_facerec.encoders:FacePipeline",
    "DlibEncoder": "dltool_facerec.encoders:DlibEncoder",
    "TorchEncoder": "dltool_facerec.encoders:TorchEncoder",
    "load_encoder": "dltool_facerec.encoders:load_encoder",
    "facenet_small": "dltool_facerec.facenet:facenet_small",
    "triplet_loss": "dltool_facerec.triplet:triplet_loss",
    "verify": "dltool_facerec.match:verify",
    "identify": "dltool_facerec.match:identify",
    "course": "dltool_facerec.course",
}
__all__, __getattr__ = lazy_exports(__name__, _EXPORTS)  # PEP 562: imported on first use


@dltool.hookimpl
def register_commands(commands):
    """Mount ``dltool facerec``."""
    commands.add_lazy(
        "facerec",
        "dltool_facerec.cli:app",
        help="Face recognition: dlib 128-d encodings, a face database, verify, identify, triplets.",
    )


@dltool.hookimpl
def register_models(models):
    """Register facerec's named model builders."""
    models.add(
        "facenet-small",
        "dltool_facerec.facenet:facenet_small",
        description="Inception-ResNet-style face encoder, 128-d L2-normalized embedding",
        input_size=(3, 96, 96),
    )


@dltool.hookimpl
def register_artifacts(artifacts):
    """Declare facerec's checksummed artifact files."""
    from dltool_facerec.weights import DLIB_MMOD, DLIB_RESNET

    artifacts.add(DLIB_RESNET)
    artifacts.add(DLIB_MMOD)
