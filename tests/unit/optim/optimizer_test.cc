// Optimizers against torch.optim reference trajectories (PyTorch 1.13, float32),
// a closed form for plain SGD, checkpoint state round trips and argument errors.
#include <cmath>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/training/optimizer.h"
#include "tests/status_matchers.h"

namespace onyx {
namespace {

// Reference numbers: /usr/bin/python3 with Debian's python3-torch ran
//
//   import torch
//   torch.set_default_dtype(torch.float32)
//   P0 = [[0.5, -1.25, 2.0, 0.0, -0.75], [1.5, -0.5, 0.25]]
//   LR_SCALE = [1.0, 0.5, 2.0, 1.0, 0.1]
//   def grad(p, i, k):  # exact in float32
//       return ((i * 7 + k * 3 + p * 5) % 11 - 5) * 0.125
//   CASES = [  # (name, torch class, kwargs, vary_lr)
//       ("SgdPlain", "SGD", dict(lr=0.1), False),
//       ("SgdMomentum", "SGD", dict(lr=0.1, momentum=0.9), True),
//       ("SgdDampening", "SGD", dict(lr=0.1, momentum=0.9, dampening=0.5), False),
//       ("SgdNesterovWd", "SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01), True),
//       ("SgdAllMaximize", "SGD", dict(lr=0.05, momentum=0.5, dampening=0.1, weight_decay=0.1, maximize=True), False),
//       ("AdamDefault", "Adam", dict(lr=0.01), False),
//       ("AdamWdAmsgrad", "Adam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, amsgrad=True), True),
//       ("AdamWDefault", "AdamW", dict(lr=0.01), False),
//       ("AdamWAmsgrad", "AdamW", dict(lr=0.05, weight_decay=0.5, amsgrad=True), True),
//       ("RmspropDefault", "RMSprop", dict(lr=0.01), False),
//       ("RmspropCenteredMomentum", "RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9, centered=True, weight_decay=0.05), True),
//       ("RmspropMomentum", "RMSprop", dict(lr=0.01, momentum=0.5), False),
//       ("RmspropCentered", "RMSprop", dict(lr=0.02, centered=True, eps=1e-4), False),
//       ("AdagradDefault", "Adagrad", dict(lr=0.1), False),
//       ("AdagradDecayInit", "Adagrad", dict(lr=0.1, lr_decay=0.5, initial_accumulator_value=0.3, weight_decay=0.05, eps=1e-6), True),
//   ]
//   def f(x):  # C++ float literal, exact for float32
//       s = "%.9g" % x
//       return s + (".0f" if "." not in s and "e" not in s else "f")
//   for name, cls, kw, vary in CASES:
//       ps = [torch.tensor(v, requires_grad=True) for v in P0]
//       opt = getattr(torch.optim, cls)(ps, **kw)
//       traj = []
//       for k in range(5):
//           if vary:
//               opt.param_groups[0]["lr"] = kw["lr"] * LR_SCALE[k]
//           for p, t in enumerate(ps):
//               t.grad = torch.tensor([grad(p, i, k) for i in range(t.numel())])
//           opt.step()
//           traj += [float(x) for t in ps for x in t.detach()]
//       print("  {\"%s\", %s, {%s}}," % (name, "true" if vary else "false", ", ".join(f(x) for x in traj)))
//
// and its output is pasted into kCases (trajectory: both parameters, all
// elements, after each of the 5 steps).

const std::vector<std::vector<float>> kInitial = {{0.5f, -1.25f, 2.0f, 0.0f, -0.75f},
                                                  {1.5f, -0.5f, 0.25f}};
const double kLrScale[5] = {1.0, 0.5, 2.0, 1.0, 0.1};
constexpr int kSteps = 5;

float Grad(int p, int i, int k) { return static_cast<float>(((i * 7 + k * 3 + p * 5) % 11 - 5) * 0.125); }

struct Case {
  const char* name;
  bool vary_lr;
  std::vector<float> trajectory;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

const Case kCases[] = {
  {"SgdPlain", false, {0.5625f, -1.27499998f, 2.0250001f, -0.0625f, -0.762499988f, 1.5f, -0.449999988f, 0.212500006f, 0.587499976f, -1.33749998f, 2.01250005f, -0.0249999985f, -0.8125f, 1.46249998f, -0.4375f, 0.275000006f, 0.574999988f, -1.29999995f, 1.9625001f, -0.0249999985f, -0.762499988f, 1.52499998f, -0.462500006f, 0.300000012f, 0.524999976f, -1.29999995f, 2.01250005f, -0.0625f, -0.75f, 1.54999995f, -0.525000036f, 0.287500024f, 0.574999988f, -1.33749998f, 2.0250001f, 9.31322575e-10f, -0.774999976f, 1.5374999f, -0.487500042f, 0.237500027f}},
  {"SgdMomentum", true, {0.5625f, -1.27499998f, 2.0250001f, -0.0625f, -0.762499988f, 1.5f, -0.449999988f, 0.212500006f, 0.603124976f, -1.3175f, 2.03000021f, -0.0718749985f, -0.793124974f, 1.48125005f, -0.421249986f, 0.226875007f, 0.72437495f, -1.39549994f, 1.94800019f, -0.105624996f, -0.803374946f, 1.53875005f, -0.367749989f, 0.328625023f, 0.728937447f, -1.43059993f, 1.96110022f, -0.1583125f, -0.795487463f, 1.589625f, -0.406174988f, 0.361912519f, 0.734348059f, -1.43750894f, 1.96352923f, -0.156804368f, -0.79727757f, 1.5929538f, -0.405883253f, 0.359908402f}},
  {"SgdDampening", false, {0.5625f, -1.27499998f, 2.0250001f, -0.0625f, -0.762499988f, 1.5f, -0.449999988f, 0.212500006f, 0.631250024f, -1.32875001f, 2.04124999f, -0.100000001f, -0.798749983f, 1.48125005f, -0.398749977f, 0.210000008f, 0.686875045f, -1.35837507f, 2.03087497f, -0.133750007f, -0.806374967f, 1.49562502f, -0.365124971f, 0.22025001f, 0.711937547f, -1.38503754f, 2.0465374f, -0.182875007f, -0.806987464f, 1.52106249f, -0.366112471f, 0.223225012f, 0.759493768f, -1.42778385f, 2.06688356f, -0.195837498f, -0.820038736f, 1.53770626f, -0.348251224f, 0.200902507f}},
  {"SgdNesterovWd", true, {0.617799997f, -1.29512501f, 2.04369998f, -0.118749999f, -0.772324979f, 1.49714994f, -0.404049993f, 0.178275004f, 0.666073084f, -1.36288834f, 2.0391984f, -0.108324684f, -0.823850036f, 1.45949519f, -0.371338636f, 0.222191885f, 0.745937169f, -1.34898877f, 1.85142267f, -0.138095677f, -0.72759974f, 1.62608671f, -0.370393991f, 0.362269253f, 0.697308183f, -1.37514746f, 1.90524113f, -0.222577736f, -0.704896152f, 1.69052684f, -0.46584937f, 0.378565729f, 0.706866205f, -1.38448691f, 1.90776443f, -0.214901254f, -0.708659351f, 1.69152665f, -0.461635172f, 0.371618092f}},
  {"SgdAllMaximize", false, {0.466250002f, -1.23125005f, 1.97749996f, 0.03125f, -0.74000001f, 1.49249995f, -0.522499979f, 0.267500013f, 0.436026871f, -1.18820941f, 1.96297622f, 0.0298593752f, -0.709169984f, 1.49890864f, -0.537023723f, 0.246921256f, 0.42457819f, -1.17821717f, 1.96938097f, 0.0290296953f, -0.713063717f, 1.46724296f, -0.530618966f, 0.224270731f, 0.43944326f, -1.16791904f, 1.94122112f, 0.0453592241f, -0.717426777f, 1.43355751f, -0.496903807f, 0.217561245f, 0.422398299f, -1.14063931f, 1.91278064f, 0.0251948722f, -0.705129921f, 1.41588879f, -0.494685173f, 0.235727474f}},
  {"AdamDefault", false, {0.50999999f, -1.25999999f, 2.00999999f, -0.00999999885f, -0.75999999f, 1.5f, -0.49000001f, 0.239999995f, 0.518985748f, -1.26939702f, 2.01266336f, -0.0119149787f, -0.76884377f, 1.4925586f, -0.481694043f, 0.242935613f, 0.524647415f, -1.27263165f, 2.00809002f, -0.0133952638f, -0.769299805f, 1.49507868f, -0.478708535f, 0.247155711f, 0.524960458f, -1.27528131f, 2.00909162f, -0.0171346925f, -0.76867044f, 1.4989177f, -0.481343955f, 0.249636337f, 0.527962267f, -1.27968431f, 2.01081276f, -0.016335791f, -0.769939125f, 1.50124621f, -0.481172115f, 0.248455763f}},
  {"AdamWdAmsgrad", true, {0.50999999f, -1.25999987f, 2.00999975f, -0.00999998394f, -0.759999812f, 1.49000001f, -0.49000001f, 0.240000024f, 0.514345467f, -1.26447153f, 2.00667572f, -0.010676221f, -0.764163911f, 1.48545873f, -0.48572576f, 0.241513759f, 0.522496641f, -1.2640419f, 1.99032843f, -0.0125622125f, -0.760232389f, 1.48471367f, -0.478735149f, 0.25006482f, 0.520304739f, -1.26274538f, 1.98679817f, -0.0164320823f, -0.756975174f, 1.48534513f, -0.481502056f, 0.251924485f, 0.520465493f, -1.2628603f, 1.98647118f, -0.0162619092f, -0.756874442f, 1.48515892f, -0.481398702f, 0.251668811f}},
  {"AdamWDefault", false, {0.509949982f, -1.25987494f, 2.00979996f, -0.00999999885f, -0.759925008f, 1.49985003f, -0.489950001f, 0.23997499f, 0.518884718f, -1.26914597f, 2.01226234f, -0.0119139785f, -0.768692791f, 1.49225867f, -0.481595039f, 0.242886603f, 0.524494469f, -1.27225363f, 2.00748777f, -0.0133930724f, -0.769071937f, 1.4946295f, -0.478561372f, 0.247082412f, 0.524755061f, -1.2747761f, 2.00828862f, -0.0171311609f, -0.768365622f, 1.49831903f, -0.481148928f, 0.249538332f, 0.527704358f, -1.27905154f, 2.00980902f, -0.0163305458f, -0.769557476f, 1.5004977f, -0.480928957f, 0.248332798f}},
  {"AdamWAmsgrad", true, {0.537500024f, -1.26874995f, 2.0f, -0.049999997f, -0.78125006f, 1.4625001f, -0.43750003f, 0.193750009f, 0.553245664f, -1.27638328f, 1.98165846f, -0.0541624501f, -0.793593824f, 1.42561543f, -0.411266327f, 0.198667169f, 0.582200289f, -1.24491048f, 1.8368423f, -0.0662497729f, -0.758474708f, 1.37953568f, -0.360847831f, 0.230934784f, 0.56921047f, -1.2270292f, 1.79592955f, -0.0832906663f, -0.736366153f, 1.36424243f, -0.365003794f, 0.237564564f, 0.569288373f, -1.22616303f, 1.79230034f, -0.0826829895f, -0.735159576f, 1.36199605f, -0.364005357f, 0.236380354f}},
  {"RmspropDefault", false, {0.599999964f, -1.3499999f, 2.0999999f, -0.0999999791f, -0.849999905f, 1.5f, -0.400000036f, 0.150000036f, 0.637300134f, -1.44291162f, 2.05509853f, -0.0483602025f, -0.947042704f, 1.39999998f, -0.375631541f, 0.23586303f, 0.618876934f, -1.39403272f, 1.96762455f, -0.0483602025f, -0.877221107f, 1.48586297f, -0.419620425f, 0.268492043f, 0.559359372f, -1.39403272f, 2.03365111f, -0.0946080759f, -0.859941661f, 1.51849198f, -0.493773967f, 0.252311409f, 0.610693693f, -1.43830347f, 2.05001736f, -0.0333666727f, -0.892751932f, 1.50231135f, -0.452953011f, 0.197783932f}},
  {"RmspropCenteredMomentum", true, {0.533333302f, -1.2833333f, 2.0333333f, -0.0333333276f, -0.783333302f, 1.4666667f, -0.466666669f, 0.216666669f, 0.554618895f, -1.31471694f, 2.034863f, -0.0398251787f, -0.815043211f, 1.43493307f, -0.446792364f, 0.21532768f, 0.614464343f, -1.38832247f, 1.97861111f, -0.0630062744f, -0.880313516f, 1.37064028f, -0.402266711f, 0.232002407f, 0.619822323f, -1.41820312f, 1.97055471f, -0.089889653f, -0.901843488f, 1.35009253f, -0.406486481f, 0.233248517f, 0.622020662f, -1.42226732f, 1.96994948f, -0.0901845172f, -0.904732049f, 1.34735024f, -0.405396044f, 0.231416076f}},
  {"RmspropMomentum", false, {0.599999964f, -1.3499999f, 2.0999999f, -0.0999999866f, -0.849999905f, 1.5f, -0.400000036f, 0.150000021f, 0.687300146f, -1.4929117f, 2.10509849f, -0.0983602032f, -0.997042656f, 1.39999998f, -0.325631529f, 0.185863033f, 0.712527037f, -1.51548874f, 2.02017379f, -0.0975403115f, -1.00074244f, 1.43586302f, -0.332436144f, 0.236423567f, 0.66562295f, -1.52677727f, 2.04373813f, -0.143378243f, -0.985312819f, 1.48642361f, -0.409992009f, 0.245523199f, 0.693505168f, -1.57669222f, 2.07188654f, -0.105055802f, -1.01040828f, 1.49552321f, -0.407948971f, 0.195545539f}},
  {"RmspropCentered", false, {0.700684845f, -1.4502027f, 2.2002027f, -0.200684831f, -0.949404299f, 1.5f, -0.29939568f, 0.0495297164f, 0.775806904f, -1.63732874f, 2.11063504f, -0.0974892303f, -1.14454639f, 1.29952967f, -0.25039494f, 0.221124291f, 0.738797188f, -1.53949976f, 1.93560874f, -0.0974892303f, -1.00507903f, 1.47112429f, -0.338398337f, 0.286437005f, 0.619859934f, -1.53949976f, 2.06750584f, -0.190136641f, -0.970567822f, 1.53643703f, -0.486602783f, 0.254080236f, 0.722708583f, -1.62838924f, 2.10021257f, -0.0677735433f, -1.0361352f, 1.5040803f, -0.405043483f, 0.14513272f}},
  {"AdagradDefault", false, {0.600000024f, -1.35000002f, 2.0999999f, -0.100000001f, -0.850000024f, 1.5f, -0.400000006f, 0.150000006f, 0.637139082f, -1.44284773f, 2.05527854f, -0.0485504232f, -0.947014272f, 1.39999998f, -0.375746429f, 0.235749304f, 0.618881643f, -1.39418125f, 1.96799135f, -0.0485504232f, -0.877383232f, 1.48574924f, -0.419390023f, 0.268193603f, 0.559904873f, -1.39418125f, 2.03375101f, -0.0943000019f, -0.860233366f, 1.51819348f, -0.493111014f, 0.252180785f, 0.610704899f, -1.43794072f, 2.04997325f, -0.0336660929f, -0.892677665f, 1.5021807f, -0.452659011f, 0.198244795f}},
  {"AdagradDecayInit", true, {0.573854804f, -1.2823875f, 2.02641344f, -0.0752070099f, -0.765775204f, 1.48643351f, -0.430802733f, 0.192245021f, 0.582615912f, -1.30558157f, 2.01407313f, -0.0613828823f, -0.787100673f, 1.46540976f, -0.424481362f, 0.214776367f, 0.564609945f, -1.25764549f, 1.94398499f, -0.0610468276f, -0.727236569f, 1.52664042f, -0.452869773f, 0.240193665f, 0.543603897f, -1.25491333f, 1.96099865f, -0.0761340782f, -0.720184803f, 1.53421056f, -0.476817518f, 0.234432414f, 0.545021951f, -1.25598407f, 1.96109343f, -0.0743419081f, -0.72094363f, 1.53349495f, -0.475589126f, 0.232853249f}},
};

// The config equivalent to each case's torch constructor call.
OptimizerConfig ConfigFor(const std::string& name) {
  OptimizerConfig c;
  if (name == "SgdPlain") {
    c.kind = "sgd"; c.lr = 0.1;
  } else if (name == "SgdMomentum") {
    c.kind = "sgd"; c.lr = 0.1; c.momentum = 0.9;
  } else if (name == "SgdDampening") {
    c.kind = "sgd"; c.lr = 0.1; c.momentum = 0.9; c.dampening = 0.5;
  } else if (name == "SgdNesterovWd") {
    c.kind = "sgd"; c.lr = 0.1; c.momentum = 0.9; c.nesterov = true; c.weight_decay = 0.01;
  } else if (name == "SgdAllMaximize") {
    c.kind = "sgd"; c.lr = 0.05; c.momentum = 0.5; c.dampening = 0.1; c.weight_decay = 0.1;
    c.maximize = true;
  } else if (name == "AdamDefault") {
    c.kind = "adam"; c.lr = 0.01;
  } else if (name == "AdamWdAmsgrad") {
    c.kind = "adam"; c.lr = 0.01; c.beta1 = 0.8; c.beta2 = 0.9; c.eps = 1e-6;
    c.weight_decay = 0.1; c.amsgrad = true;
  } else if (name == "AdamWDefault") {
    c.kind = "adamw"; c.lr = 0.01;
  } else if (name == "AdamWAmsgrad") {
    c.kind = "adamw"; c.lr = 0.05; c.weight_decay = 0.5; c.amsgrad = true;
  } else if (name == "RmspropDefault") {
    c.kind = "rmsprop"; c.lr = 0.01;
  } else if (name == "RmspropCenteredMomentum") {
    c.kind = "rmsprop"; c.lr = 0.01; c.alpha = 0.9; c.momentum = 0.9; c.centered = true;
    c.weight_decay = 0.05;
  } else if (name == "RmspropMomentum") {
    c.kind = "rmsprop"; c.lr = 0.01; c.momentum = 0.5;
  } else if (name == "RmspropCentered") {
    c.kind = "rmsprop"; c.lr = 0.02; c.centered = true; c.eps = 1e-4;
  } else if (name == "AdagradDefault") {
    c.kind = "adagrad"; c.lr = 0.1;
  } else if (name == "AdagradDecayInit") {
    c.kind = "adagrad"; c.lr = 0.1; c.lr_decay = 0.5; c.initial_accumulator_value = 0.3;
    c.weight_decay = 0.05; c.eps = 1e-6;
  }
  return c;
}

struct Params {
  std::vector<Tensor> values;
  std::vector<Tensor*> ptrs() {
    std::vector<Tensor*> out;
    for (Tensor& t : values) out.push_back(&t);
    return out;
  }
  std::vector<const Tensor*> cptrs() const {
    std::vector<const Tensor*> out;
    for (const Tensor& t : values) out.push_back(&t);
    return out;
  }
};

Params MakeParams() {
  Params p;
  for (const auto& v : kInitial) {
    p.values.push_back(
        Tensor::FromVector<float>({static_cast<int64_t>(v.size())}, v).value());
  }
  return p;
}

Params MakeGrads(int k) {
  Params g = MakeParams();
  for (int p = 0; p < 2; ++p) {
    float* d = g.values[p].data<float>();
    for (int i = 0; i < g.values[p].num_elements(); ++i) d[i] = Grad(p, i, k);
  }
  return g;
}

// Tolerance ~4 float ulps. Measured: 34 of 600 values differ from torch, each
// by 1 ulp: torch's CPU add_(t, alpha) runs as a fused multiply-add (explicit
// fmadd in its vector path, contracted in its AVX2/AVX-512 scalar path), while
// Onyx rounds the product first. Any algorithmic slip (dampening on step 1,
// eps placement, bias correction) moves values by orders of magnitude more.
void ExpectStep(const Case& c, const Params& params, int k) {
  int offset = k * 8;
  for (int p = 0; p < 2; ++p) {
    const float* x = params.values[p].data<float>();
    for (int i = 0; i < params.values[p].num_elements(); ++i, ++offset) {
      const double ref = c.trajectory[offset];
      EXPECT_NEAR(x[i], ref, 2e-9 + 5e-7 * std::fabs(ref))
          << c.name << " step " << k + 1 << " param " << p << " element " << i;
    }
  }
}

double LrFor(const Case& c, const OptimizerConfig& config, int k) {
  return c.vary_lr ? config.lr * kLrScale[k] : config.lr;
}

class TorchReferenceTest : public ::testing::TestWithParam<Case> {};

TEST_P(TorchReferenceTest, MatchesTorchTrajectory) {
  const Case& c = GetParam();
  ASSERT_EQ(c.trajectory.size(), 8u * kSteps);
  const OptimizerConfig config = ConfigFor(c.name);
  Params params = MakeParams();
  ASSERT_OK_AND_ASSIGN(auto opt, MakeOptimizer(config, params.cptrs()));
  for (int k = 0; k < kSteps; ++k) {
    Params grads = MakeGrads(k);
    ASSERT_OK(opt->Step(params.ptrs(), grads.cptrs(), LrFor(c, config, k)));
    EXPECT_EQ(opt->step_count(), k + 1);
    ExpectStep(c, params, k);
  }
}

// Checkpoint round trip: 2 steps, copy State() and the step count into a fresh
// optimizer, 3 more steps there; the result must still follow torch.
TEST_P(TorchReferenceTest, StateRestoresIntoFreshOptimizer) {
  const Case& c = GetParam();
  const OptimizerConfig config = ConfigFor(c.name);
  Params params = MakeParams();
  ASSERT_OK_AND_ASSIGN(auto first, MakeOptimizer(config, params.cptrs()));
  for (int k = 0; k < 2; ++k) {
    Params grads = MakeGrads(k);
    ASSERT_OK(first->Step(params.ptrs(), grads.cptrs(), LrFor(c, config, k)));
  }
  ASSERT_OK_AND_ASSIGN(auto second, MakeOptimizer(config, params.cptrs()));
  auto saved = first->State();
  auto fresh = second->State();
  ASSERT_EQ(saved.size(), fresh.size());
  for (size_t s = 0; s < saved.size(); ++s) {
    ASSERT_EQ(saved[s].first, fresh[s].first);
    ASSERT_OK_AND_ASSIGN(*fresh[s].second, saved[s].second->Clone());
  }
  first.reset();  // the restored optimizer must not depend on the old one
  second->set_step_count(2);
  for (int k = 2; k < kSteps; ++k) {
    Params grads = MakeGrads(k);
    ASSERT_OK(second->Step(params.ptrs(), grads.cptrs(), LrFor(c, config, k)));
    ExpectStep(c, params, k);
  }
}

INSTANTIATE_TEST_SUITE_P(Torch, TorchReferenceTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

// Plain SGD: x_5 = x_0 - lr * sum_k g_k, in double.
TEST(SgdTest, PlainSgdClosedForm) {
  OptimizerConfig config;
  config.kind = "sgd";
  Params params = MakeParams();
  ASSERT_OK_AND_ASSIGN(auto opt, MakeOptimizer(config, params.cptrs()));
  const double lr = 0.03;
  for (int k = 0; k < kSteps; ++k) {
    Params grads = MakeGrads(k);
    ASSERT_OK(opt->Step(params.ptrs(), grads.cptrs(), lr));
  }
  for (int p = 0; p < 2; ++p) {
    for (int i = 0; i < params.values[p].num_elements(); ++i) {
      double expected = kInitial[p][i];
      for (int k = 0; k < kSteps; ++k) expected -= lr * Grad(p, i, k);
      EXPECT_NEAR(params.values[p].data<float>()[i], expected, 1e-6) << p << "," << i;
    }
  }
  EXPECT_TRUE(opt->State().empty());  // no momentum: torch keeps no buffer either
}

TEST(OptimizerTest, StateNamesFollowTorch) {
  Params params = MakeParams();
  auto names = [&](OptimizerConfig c) {
    std::vector<std::string> out;
    auto opt = MakeOptimizer(c, params.cptrs());
    EXPECT_OK(opt);
    for (auto& [name, t] : (*opt)->State()) out.push_back(name);
    return out;
  };
  OptimizerConfig c;
  c.kind = "sgd";
  c.momentum = 0.9;
  EXPECT_EQ(names(c), (std::vector<std::string>{"momentum_buffer/0", "momentum_buffer/1"}));
  c = {};
  c.kind = "adamw";
  c.amsgrad = true;
  EXPECT_EQ(names(c), (std::vector<std::string>{"exp_avg/0", "exp_avg_sq/0", "max_exp_avg_sq/0",
                                                "exp_avg/1", "exp_avg_sq/1",
                                                "max_exp_avg_sq/1"}));
  c = {};
  c.kind = "rmsprop";
  c.momentum = 0.1;
  c.centered = true;
  EXPECT_EQ(names(c), (std::vector<std::string>{"square_avg/0", "momentum_buffer/0",
                                                "grad_avg/0", "square_avg/1",
                                                "momentum_buffer/1", "grad_avg/1"}));
  c = {};
  c.kind = "adagrad";
  c.initial_accumulator_value = 0.25;
  ASSERT_OK_AND_ASSIGN(auto opt, MakeOptimizer(c, params.cptrs()));
  auto state = opt->State();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[1].first, "sum/1");
  EXPECT_EQ(state[1].second->shape(), (Shape{3}));
  for (float v : state[1].second->span<float>()) EXPECT_EQ(v, 0.25f);
}

TEST(OptimizerTest, DefaultsFollowTorchPerKind) {
  OptimizerConfig c;
  c.kind = "adamw";
  ASSERT_OK_AND_ASSIGN(OptimizerConfig adamw, ResolveOptimizerConfig(c));
  EXPECT_EQ(*adamw.weight_decay, 1e-2);
  EXPECT_EQ(*adamw.eps, 1e-8);
  c.kind = "adam";
  ASSERT_OK_AND_ASSIGN(OptimizerConfig adam, ResolveOptimizerConfig(c));
  EXPECT_EQ(*adam.weight_decay, 0.0);
  c.kind = "adagrad";
  ASSERT_OK_AND_ASSIGN(OptimizerConfig adagrad, ResolveOptimizerConfig(c));
  EXPECT_EQ(*adagrad.eps, 1e-10);
  c.weight_decay = 0.5;  // explicit values win
  ASSERT_OK_AND_ASSIGN(OptimizerConfig explicit_wd, ResolveOptimizerConfig(c));
  EXPECT_EQ(*explicit_wd.weight_decay, 0.5);
}

void ExpectInvalid(const OptimizerConfig& c, const std::string& fragment) {
  Params params = MakeParams();
  auto opt = MakeOptimizer(c, params.cptrs());
  ASSERT_FALSE(opt.ok()) << c.kind << " should fail with " << fragment;
  EXPECT_EQ(opt.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(opt.status().message()).find(fragment), std::string::npos)
      << opt.status();
}

TEST(OptimizerTest, RejectsBadHyperparameters) {
  OptimizerConfig c;
  c.kind = "lion";
  ExpectInvalid(c, "Unknown optimizer \"lion\"");
  c = {};
  c.kind = "sgd";
  c.lr = -0.1;
  ExpectInvalid(c, "Invalid learning rate: -0.1");
  c = {};
  c.kind = "sgd";
  c.nesterov = true;
  ExpectInvalid(c, "Nesterov momentum requires a momentum and zero dampening");
  c.momentum = 0.9;
  c.dampening = 0.1;
  ExpectInvalid(c, "Nesterov momentum requires");
  c = {};
  c.kind = "sgd";
  c.momentum = -1;
  ExpectInvalid(c, "Invalid momentum value");
  c = {};
  c.kind = "adam";
  c.beta1 = 1.0;
  ExpectInvalid(c, "Invalid beta parameter at index 0: 1");
  c = {};
  c.kind = "adamw";
  c.beta2 = -0.5;
  ExpectInvalid(c, "Invalid beta parameter at index 1");
  c = {};
  c.kind = "adam";
  c.eps = -1e-8;
  ExpectInvalid(c, "Invalid epsilon value");
  c = {};
  c.kind = "rmsprop";
  c.weight_decay = -1;
  ExpectInvalid(c, "Invalid weight_decay value");
  c = {};
  c.kind = "rmsprop";
  c.alpha = -0.1;
  ExpectInvalid(c, "Invalid alpha value");
  c = {};
  c.kind = "adagrad";
  c.lr_decay = -1;
  ExpectInvalid(c, "Invalid lr_decay value");
  c = {};
  c.kind = "adagrad";
  c.initial_accumulator_value = -1;
  ExpectInvalid(c, "Invalid initial_accumulator_value value");
  c = {};
  c.kind = "adam";
  c.lr = std::nan("");
  ExpectInvalid(c, "Invalid learning rate");
}

TEST(OptimizerTest, RejectsMismatchedTensorsNamingTheIndex) {
  Params params = MakeParams();
  OptimizerConfig c;
  c.kind = "adam";
  ASSERT_OK_AND_ASSIGN(auto opt, MakeOptimizer(c, params.cptrs()));
  Params grads = MakeGrads(0);
  const std::vector<float> before(params.values[0].span<float>().begin(),
                                  params.values[0].span<float>().end());

  grads.values[1] = Tensor::Zeros(DataType::kFloat32, {4}).value();
  absl::Status s = opt->Step(params.ptrs(), grads.cptrs(), 0.1);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("parameter 1"), std::string::npos) << s;

  grads = MakeGrads(0);
  grads.values[0] = Tensor::Zeros(DataType::kFloat64, {5}).value();
  s = opt->Step(params.ptrs(), grads.cptrs(), 0.1);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("parameter 0"), std::string::npos) << s;

  grads = MakeGrads(0);
  std::vector<const Tensor*> one_grad = {&grads.values[0]};
  s = opt->Step(params.ptrs(), one_grad, 0.1);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);

  s = opt->Step(params.ptrs(), grads.cptrs(), -1.0);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);

  // Failed steps change nothing.
  EXPECT_EQ(opt->step_count(), 0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(params.values[0].data<float>()[i], before[i]);

  Tensor ints = Tensor::Zeros(DataType::kInt32, {2}).value();
  std::vector<const Tensor*> bad = {&params.values[0], &ints};
  auto made = MakeOptimizer(c, bad);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(std::string(made.status().message()).find("parameter 1 is int32"),
            std::string::npos)
      << made.status();
}

// A large parameter runs the OpenMP path; every element must see the same
// update as a small one with the same values.
TEST(OptimizerTest, LargeParameterMatchesSmallOne) {
  const int64_t n = 100000;
  std::vector<float> x(n), g(n);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = kInitial[0][i % 5];
    g[i] = Grad(0, static_cast<int>(i % 5), 0);
  }
  Tensor big = Tensor::FromVector<float>({n}, x).value();
  Tensor big_grad = Tensor::FromVector<float>({n}, g).value();
  OptimizerConfig c = ConfigFor("RmspropCenteredMomentum");
  const std::vector<const Tensor*> cbig = {&big};
  ASSERT_OK_AND_ASSIGN(auto opt, MakeOptimizer(c, cbig));
  const std::vector<Tensor*> pbig = {&big};
  const std::vector<const Tensor*> gbig = {&big_grad};
  ASSERT_OK(opt->Step(pbig, gbig, c.lr));
  const Case* ref = nullptr;
  for (const Case& k : kCases) {
    if (std::string(k.name) == "RmspropCenteredMomentum") ref = &k;
  }
  ASSERT_NE(ref, nullptr);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_NEAR(big.data<float>()[i], ref->trajectory[i % 5], 1e-6) << i;
  }
}

}  // namespace
}  // namespace onyx
